// placeholder replaced by the generator work
#pragma once
