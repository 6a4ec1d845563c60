#include "formats/joblib/inspector.h"

#include <gtest/gtest.h>
