// placeholder: the command line lands here
int main() { return 0; }
