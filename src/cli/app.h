#pragma once

// The `lb` command line: every verb, its flags and help, run against the
// cluster chosen by the endpoint rules (endpoint.h). I/O goes through the
// given streams and the environment is passed in, so tests drive it in-process.

#include <chrono>
#include <functional>
#include <ostream>
#include <string>

namespace lb::cli {

struct Environment {
  std::string home;     // $HOME: where ~/.lastbackend/config.yml lives
  std::string lbHost;   // $LB_HOST
  std::string lbToken;  // $LB_TOKEN
  // Wall clock for ages ("2 minutes ago").
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

// Reads HOME, LB_HOST, LB_TOKEN from the process environment.
Environment environmentFromProcess();

// Runs one command. Returns the exit status: 0 on success, 1 on any failure
// (with "lb: <reason>" on `err`), CLI11's code for usage errors; --help is 0.
int run(int argc, const char* const argv[], const Environment& env, std::ostream& out,
        std::ostream& err);

}  // namespace lb::cli
