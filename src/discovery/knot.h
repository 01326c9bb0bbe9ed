#pragma once

// libknot's headers declare C functions without extern "C": include them
// through here only.

extern "C" {
#include <libknot/libknot.h>
}
