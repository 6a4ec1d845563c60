#pragma once
// `run --recipe FILE.py`: a user's training recipe (fixtures/recipes.py says what it defines)
// becomes a fixture of the run. Each file is copied into the run directory, the one place every
// environment sees (a sandbox with a private /tmp, a Debian rootfs), and named to the workers.
#include <map>
#include <string>
#include <vector>

#include "harness/util/result.h"

namespace crossload::recipes {

struct StagedRecipes {
  std::vector<std::string> fixtures;               // fixture names: the files' stems
  std::map<std::string, std::string> worker_env;   // CROSSLOAD_RECIPES=<copies, ':'-joined>
};

// Copies each recipe to <out_dir>/recipes/. An Error names a missing file, one that is not .py,
// or two recipes with the same name.
Result<StagedRecipes> stage_recipes(const std::vector<std::string>& paths, const std::string& out_dir);

}  // namespace crossload::recipes
