#include "formats/skops/inspector.h"

#include <gtest/gtest.h>
