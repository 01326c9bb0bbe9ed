// lb: the command line client of a Last.Backend cluster. All logic is in src/cli.

#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) {
  return lb::cli::run(argc, argv, lb::cli::environmentFromProcess(), std::cout, std::cerr);
}
