#pragma once
namespace crossload::cli {
// Parses argv, runs the chosen subcommand, returns the process exit code.
int main(int argc, char** argv);
}
