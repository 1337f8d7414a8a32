// placeholder replaced by the generator work
int main() { return 0; }
