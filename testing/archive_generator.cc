#include "testing/archive_generator.h"
