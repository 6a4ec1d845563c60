#include "harness/audit/render.h"
#include <gtest/gtest.h>
