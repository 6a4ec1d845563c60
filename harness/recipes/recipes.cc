#include "harness/recipes/recipes.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace crossload::recipes {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRecipesVar = "CROSSLOAD_RECIPES";  // read by fixtures/recipes.py

Status valid_recipe(const fs::path& path, const std::vector<std::string>& taken) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error(fmt::format("--recipe {}: no such file", path.string()));
  if (path.extension() != ".py")
    return make_error(fmt::format("--recipe {}: a recipe is a Python file (.py)", path.string()));
  std::string name = path.stem().string();
  if (std::find(taken.begin(), taken.end(), name) != taken.end())
    return make_error(fmt::format("--recipe {}: another recipe is already named {} (a recipe's fixture is named "
                                  "after its file)", path.string(), name));
  return ok_status();
}

}  // namespace

Result<StagedRecipes> stage_recipes(const std::vector<std::string>& paths, const std::string& out_dir) {
  StagedRecipes staged;
  if (paths.empty()) return staged;
  fs::path dir = fs::path(out_dir) / "recipes";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(fmt::format("{}: cannot create: {}", dir.string(), ec.message()));
  std::string joined;
  for (const auto& given : paths) {
    fs::path path(given);
    if (auto s = valid_recipe(path, staged.fixtures); !s) return s.error();
    fs::path to = dir / path.filename();
    fs::copy_file(path, to, fs::copy_options::overwrite_existing, ec);
    if (ec) return make_error(fmt::format("--recipe {}: cannot copy to {}: {}", given, to.string(), ec.message()));
    staged.fixtures.push_back(path.stem().string());
    joined += (joined.empty() ? "" : ":") + to.string();
  }
  staged.worker_env[kRecipesVar] = joined;
  return staged;
}

}  // namespace crossload::recipes
