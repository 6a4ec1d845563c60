#include "formats/npy/inspector.h"

#include <gtest/gtest.h>
