#include "harness/cli/cli.h"

int main(int argc, char** argv) { return crossload::cli::main(argc, argv); }
