#include "formats/onnx/inspector.h"

#include <gtest/gtest.h>
