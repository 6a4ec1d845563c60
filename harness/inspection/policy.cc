#include "harness/inspection/policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <unordered_map>
#include <utility>

namespace crossload::audit {

namespace {

// ---------------------------------------------------------------------------------------------
// The dangerous set. It covers what picklescan and modelscan deny, plus the bypass families of
// issue 5: getattr/attrgetter/methodcaller chains, nested deserializers, import machinery,
// marshal, runpy, pydoc, timeit, cProfile, code, pty, ctypes, asyncio, numpy.f2py...
// "*" means the module and every submodule.
// ---------------------------------------------------------------------------------------------
const std::vector<DangerEntry> kDangerous{
    // code execution through builtins
    {"builtins", "eval", "code execution"},
    {"builtins", "exec", "code execution"},
    {"builtins", "execfile", "code execution"},
    {"builtins", "compile", "code execution"},
    {"builtins", "__build_class__", "code execution"},
    {"builtins", "__import__", "import machinery"},
    {"builtins", "breakpoint", "debugger"},
    {"builtins", "input", "interactive input"},
    {"builtins", "open", "file system"},
    {"builtins", "file", "file system"},
    {"builtins", "getattr", "attribute access"},
    {"builtins", "setattr", "attribute access"},
    {"builtins", "delattr", "attribute access"},
    {"builtins", "globals", "attribute access"},
    {"builtins", "locals", "attribute access"},
    {"builtins", "vars", "attribute access"},
    {"builtins", "apply", "code execution"},
    {"builtins", "reload", "import machinery"},
    {"builtins", "help", "interactive input"},
    {"builtins", "exit", "process"},
    {"builtins", "quit", "process"},
    // processes
    {"os", "*", "process"},
    {"posix", "*", "process"},
    {"nt", "*", "process"},
    {"_posixsubprocess", "*", "process"},
    {"subprocess", "*", "process"},
    {"commands", "*", "process"},
    {"pty", "*", "process"},
    {"platform", "*", "process"},
    {"multiprocessing", "*", "process"},
    {"_thread", "*", "process"},
    {"thread", "*", "process"},
    {"signal", "*", "process"},
    {"atexit", "*", "code execution"},
    {"weakref", "finalize", "code execution"},
    {"asyncio", "*", "process"},
    {"concurrent", "*", "process"},
    {"uuid", "_get_command_stdout", "process"},
    {"ctypes", "*", "native code"},
    {"_ctypes", "*", "native code"},
    {"cffi", "*", "native code"},
    {"numpy.ctypeslib", "*", "native code"},
    // interpreters, debuggers, profilers, code runners
    {"sys", "*", "interpreter state"},
    {"runpy", "*", "code execution"},
    {"code", "*", "code execution"},
    {"codeop", "*", "code execution"},
    {"timeit", "*", "code execution"},
    {"cProfile", "*", "code execution"},
    {"profile", "*", "code execution"},
    {"pstats", "*", "file system"},
    {"trace", "*", "code execution"},
    {"pdb", "*", "debugger"},
    {"bdb", "*", "debugger"},
    {"doctest", "*", "code execution"},
    {"pydoc", "*", "import machinery"},
    {"idlelib", "*", "code execution"},
    {"lib2to3", "*", "code execution"},
    {"logging", "config", "code execution"},
    {"logging.config", "*", "code execution"},
    {"gc", "*", "interpreter state"},
    {"inspect", "*", "interpreter state"},
    {"site", "*", "import machinery"},
    {"numpy.f2py", "*", "code execution"},
    {"numpy.testing", "*", "code execution"},
    {"numpy.distutils", "*", "process"},
    {"numpy.lib.utils", "*", "code execution"},
    {"torch._dynamo.guards", "GuardBuilder.get", "code execution"},
    {"torch._inductor.codecache", "compile_file", "process"},
    {"torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression",
     "code execution"},
    {"torch.jit.unsupported_tensor_ops", "execWrapper", "code execution"},
    {"torch.utils.bottleneck.__main__", "*", "code execution"},
    {"torch.utils.collect_env", "run", "process"},
    {"torch.utils._config_module", "ConfigModule.load_config", "nested deserialization"},
    {"torch.utils.data.datapipes.utils.decoder", "basichandlers", "nested deserialization"},
    {"torch.serialization", "load", "nested deserialization"},
    {"torch", "load", "nested deserialization"},
    // import machinery and code objects
    {"importlib", "*", "import machinery"},
    {"imp", "*", "import machinery"},
    {"pkgutil", "*", "import machinery"},
    {"zipimport", "*", "import machinery"},
    {"marshal", "*", "code objects"},
    {"py_compile", "*", "code objects"},
    {"compileall", "*", "code objects"},
    {"types", "ModuleType", "import machinery"},
    {"types", "new_class", "code execution"},
    {"copyreg", "add_extension", "import machinery"},
    {"copyreg", "remove_extension", "import machinery"},
    {"copyreg", "pickle", "import machinery"},
    {"copyreg", "constructor", "import machinery"},
    {"copyreg", "dispatch_table", "import machinery"},
    {"copyreg", "_extension_registry", "import machinery"},
    {"copyreg", "_inverted_registry", "import machinery"},
    {"copyreg", "_extension_cache", "import machinery"},
    // callable combinators: they turn data into calls
    {"operator", "attrgetter", "attribute access"},
    {"operator", "itemgetter", "attribute access"},
    {"operator", "methodcaller", "attribute access"},
    {"operator", "call", "code execution"},
    {"operator", "getitem", "attribute access"},
    {"operator", "setitem", "attribute access"},
    {"operator", "delitem", "attribute access"},
    {"_operator", "*", "attribute access"},
    {"functools", "partial", "code execution"},
    {"functools", "partialmethod", "code execution"},
    {"functools", "reduce", "code execution"},
    {"itertools", "starmap", "code execution"},
    // nested deserialization
    {"pickle", "*", "nested deserialization"},
    {"_pickle", "*", "nested deserialization"},
    {"cPickle", "*", "nested deserialization"},
    {"pickletools", "*", "nested deserialization"},
    {"shelve", "*", "nested deserialization"},
    {"dill", "*", "nested deserialization"},
    {"cloudpickle", "load", "nested deserialization"},
    {"cloudpickle", "loads", "nested deserialization"},
    {"cloudpickle.cloudpickle", "load", "nested deserialization"},
    {"cloudpickle.cloudpickle", "loads", "nested deserialization"},
    {"joblib", "load", "nested deserialization"},
    {"joblib.numpy_pickle", "load", "nested deserialization"},
    {"joblib.numpy_pickle", "NumpyUnpickler", "nested deserialization"},
    {"joblib", "Memory", "file system"},
    {"joblib.memory", "*", "file system"},
    {"joblib.parallel", "*", "process"},
    {"joblib", "Parallel", "process"},
    {"numpy", "load", "nested deserialization"},
    {"numpy.lib.npyio", "*", "nested deserialization"},
    {"numpy.lib._npyio_impl", "*", "nested deserialization"},
    {"numpy.lib.format", "*", "nested deserialization"},
    {"numpy.lib._format_impl", "*", "nested deserialization"},
    {"numpy", "loadtxt", "file system"},
    {"numpy", "genfromtxt", "file system"},
    {"numpy", "fromfile", "file system"},
    {"numpy", "memmap", "file system"},
    {"numpy", "save", "file system"},
    {"numpy", "savez", "file system"},
    {"numpy", "savez_compressed", "file system"},
    {"numpy", "savetxt", "file system"},
    {"numpy", "DataSource", "network"},
    {"numpy.lib._datasource", "*", "network"},
    {"pandas", "read_pickle", "nested deserialization"},
    {"pandas.io", "*", "file system"},
    {"scipy.io", "*", "file system"},
    {"skops.io", "load", "nested deserialization"},
    {"skops.io", "loads", "nested deserialization"},
    // files
    {"io", "*", "file system"},
    {"_io", "*", "file system"},
    {"codecs", "open", "file system"},
    {"codecs", "EncodedFile", "file system"},
    {"fileinput", "*", "file system"},
    {"shutil", "*", "file system"},
    {"tempfile", "*", "file system"},
    {"pathlib", "*", "file system"},
    {"glob", "*", "file system"},
    {"linecache", "*", "file system"},
    {"mmap", "*", "file system"},
    {"zipfile", "*", "file system"},
    {"tarfile", "*", "file system"},
    {"sqlite3", "*", "file system"},
    {"dbm", "*", "file system"},
    {"distutils", "*", "file system"},
    {"setuptools", "*", "process"},
    {"pip", "*", "process"},
    {"ensurepip", "*", "process"},
    {"venv", "*", "process"},
    // network
    {"socket", "*", "network"},
    {"_socket", "*", "network"},
    {"ssl", "*", "network"},
    {"http", "*", "network"},
    {"httplib", "*", "network"},
    {"urllib", "*", "network"},
    {"urllib2", "*", "network"},
    {"requests", "*", "network"},
    {"httpx", "*", "network"},
    {"aiohttp", "*", "network"},
    {"ftplib", "*", "network"},
    {"smtplib", "*", "network"},
    {"poplib", "*", "network"},
    {"imaplib", "*", "network"},
    {"nntplib", "*", "network"},
    {"telnetlib", "*", "network"},
    {"socketserver", "*", "network"},
    {"xmlrpc", "*", "network"},
    {"webbrowser", "*", "process"},
    {"sklearn.datasets", "*", "network"},
    {"sklearn.utils._testing", "*", "process"},
    {"sklearn.utils.estimator_checks", "*", "code execution"},
};

// Modules whose mere name inside an attribute path (a.b.os.system) means the path leaves the
// model's code: top-level names of the "*" entries above plus the usual aliases.
const std::array<std::string_view, 12> kDangerousPathComponents{
    "os", "sys", "subprocess", "builtins", "__builtins__", "importlib", "pickle", "marshal",
    "ctypes", "socket", "shutil", "posix"};

// Attribute names that reach interpreter internals when walked through a dotted global.
const std::array<std::string_view, 22> kDangerousAttributes{
    "__globals__", "__builtins__", "__subclasses__", "__dict__", "__class__", "__base__",
    "__bases__", "__mro__", "__code__", "__func__", "__self__", "__getattribute__",
    "__getattr__", "__import__", "__loader__", "__spec__", "__init__", "__new__",
    "__reduce__", "__reduce_ex__", "__setstate__", "__call__"};

// Leaf names that execute, load or open when reached through an attribute path.
const std::array<std::string_view, 16> kDangerousLeaves{
    "eval", "exec", "system", "popen", "Popen", "spawn", "execv", "execve", "load", "loads",
    "compile", "open", "getattr", "import_module", "check_output", "run"};

// Names in by-value code (co_names: globals, attributes, imported modules) that reach process,
// file, network, import or eval machinery. Modules are matched by their top-level name; the
// builtins of kDangerous (eval, exec, open, getattr, __import__...) count too. Kept to names a
// numeric function has no reason to use: `trace` or `code` would flag np.trace or obj.code.
struct CodeName {
  std::string_view name;
  std::string_view category;
};
const std::array<CodeName, 64> kCodeNames{{
    {"os", "process"}, {"posix", "process"}, {"nt", "process"},
    {"subprocess", "process"}, {"_posixsubprocess", "process"}, {"pty", "process"},
    {"multiprocessing", "process"}, {"system", "process"}, {"popen", "process"},
    {"Popen", "process"}, {"spawnv", "process"}, {"spawnve", "process"},
    {"spawnl", "process"}, {"spawnlp", "process"}, {"posix_spawn", "process"},
    {"execv", "process"}, {"execve", "process"}, {"execl", "process"},
    {"execlp", "process"}, {"execvp", "process"}, {"fork", "process"},
    {"kill", "process"}, {"check_output", "process"}, {"check_call", "process"},
    {"getoutput", "process"}, {"getstatusoutput", "process"}, {"startfile", "process"},
    {"webbrowser", "process"},
    {"socket", "network"}, {"_socket", "network"}, {"ssl", "network"}, {"urllib", "network"},
    {"urllib2", "network"}, {"urlopen", "network"}, {"urlretrieve", "network"},
    {"requests", "network"}, {"httpx", "network"}, {"ftplib", "network"},
    {"telnetlib", "network"}, {"create_connection", "network"},
    {"shutil", "file system"}, {"rmtree", "file system"}, {"tempfile", "file system"},
    {"pathlib", "file system"},
    {"importlib", "import machinery"}, {"imp", "import machinery"},
    {"import_module", "import machinery"}, {"zipimport", "import machinery"},
    {"runpy", "code execution"}, {"marshal", "code objects"}, {"pickle", "nested deserialization"},
    {"_pickle", "nested deserialization"}, {"cPickle", "nested deserialization"},
    {"dill", "nested deserialization"}, {"ctypes", "native code"}, {"_ctypes", "native code"},
    {"CDLL", "native code"}, {"dlopen", "native code"},
    {"builtins", "code execution"}, {"__builtin__", "code execution"},
    {"__builtins__", "code execution"}, {"__globals__", "attribute traversal"},
    {"__subclasses__", "attribute traversal"}, {"__code__", "attribute traversal"},
}};

// Dangerous builtins whose names are also everyday attribute names (self.file, obj.input).
const std::array<std::string_view, 5> kCommonBuiltinWords{"file", "input", "help", "exit",
                                                          "quit"};

// ---------------------------------------------------------------------------------------------
// The trusted set: what real scikit-learn / numpy / scipy / joblib models import.
// ---------------------------------------------------------------------------------------------
const std::vector<std::pair<std::string_view, std::string_view>> kTrusted{
    {"builtins", "object"},     {"builtins", "slice"},      {"builtins", "bytes"},
    {"builtins", "bytearray"},  {"builtins", "set"},        {"builtins", "frozenset"},
    {"builtins", "complex"},    {"builtins", "range"},      {"builtins", "int"},
    {"builtins", "float"},      {"builtins", "str"},        {"builtins", "list"},
    {"builtins", "dict"},       {"builtins", "tuple"},      {"builtins", "bool"},
    {"builtins", "Ellipsis"},   {"builtins", "NotImplemented"},
    {"copyreg", "_reconstructor"},
    {"collections", "OrderedDict"}, {"collections", "defaultdict"},
    {"collections", "Counter"},     {"collections", "deque"},
    {"_codecs", "encode"},  // protocol <= 2 bytes; the call is checked for 'latin1'
    {"codecs", "encode"},
    {"datetime", "datetime"}, {"datetime", "date"}, {"datetime", "time"},
    {"datetime", "timedelta"}, {"datetime", "timezone"},
    {"decimal", "Decimal"}, {"fractions", "Fraction"},
    {"re", "_compile"},
    {"numpy", "dtype"}, {"numpy", "ndarray"}, {"numpy", "matrix"},
    {"numpy._core.multiarray", "_reconstruct"}, {"numpy.core.multiarray", "_reconstruct"},
    {"numpy._core.multiarray", "scalar"},       {"numpy.core.multiarray", "scalar"},
    {"numpy._core.numeric", "_frombuffer"},     {"numpy.core.numeric", "_frombuffer"},
    {"numpy._core._multiarray_umath", "_reconstruct"},
    {"numpy._core", "_ufunc_reconstruct"},      // the call is checked: numpy ufuncs only
    {"numpy.core", "_ufunc_reconstruct"},
    {"numpy.ma.core", "_mareconstruct"}, {"numpy.ma.core", "MaskedArray"},
    {"numpy.ma", "MaskedArray"},
    {"numpy.random._pickle", "__randomstate_ctor"},
    {"numpy.random._pickle", "__generator_ctor"},
    {"numpy.random._pickle", "__bit_generator_ctor"},
    {"numpy.random.mtrand", "RandomState"},
    {"numpy.random._generator", "Generator"},
    {"numpy.random._mt19937", "MT19937"},
    {"numpy.random._pcg64", "PCG64"}, {"numpy.random._pcg64", "PCG64DXSM"},
    {"numpy.random._philox", "Philox"}, {"numpy.random._sfc64", "SFC64"},
    {"numpy.random.bit_generator", "SeedSequence"},
    {"numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"},
    // the bit generators skops' RandomGeneratorNode calls by name from numpy.random
    {"numpy.random", "MT19937"}, {"numpy.random", "PCG64"}, {"numpy.random", "PCG64DXSM"},
    {"numpy.random", "Philox"},  {"numpy.random", "SFC64"},
    {"scipy.sparse._csr", "csr_matrix"}, {"scipy.sparse._csc", "csc_matrix"},
    {"scipy.sparse._coo", "coo_matrix"}, {"scipy.sparse._bsr", "bsr_matrix"},
    {"scipy.sparse._dia", "dia_matrix"}, {"scipy.sparse._dok", "dok_matrix"},
    {"scipy.sparse._lil", "lil_matrix"},
    {"scipy.sparse._csr", "csr_array"},  {"scipy.sparse._csc", "csc_array"},
    {"scipy.sparse._coo", "coo_array"},  {"scipy.sparse._bsr", "bsr_array"},
    {"scipy.sparse._dia", "dia_array"},  {"scipy.sparse._dok", "dok_array"},
    {"scipy.sparse._lil", "lil_array"},
    {"scipy.sparse.csr", "csr_matrix"},  {"scipy.sparse.csc", "csc_matrix"},
    {"scipy.sparse.coo", "coo_matrix"},
    {"joblib.numpy_pickle", "NumpyArrayWrapper"},
    {"sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper"},
};

// numpy ufuncs (pure element-wise math) and scalar types, importable from `numpy` itself.
const std::vector<std::string_view> kNumpyNames{
    "abs", "absolute", "acos", "acosh", "add", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_count", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "cbrt", "ceil", "conj", "conjugate", "copysign",
    "cos", "cosh", "deg2rad", "degrees", "divide", "divmod", "equal", "exp", "exp2", "expm1",
    "fabs", "float_power", "floor", "floor_divide", "fmax", "fmin", "fmod", "frexp", "gcd",
    "greater", "greater_equal", "heaviside", "hypot", "invert", "isfinite", "isinf", "isnan",
    "isnat", "lcm", "ldexp", "left_shift", "less", "less_equal", "log", "log10", "log1p",
    "log2", "logaddexp", "logaddexp2", "logical_and", "logical_not", "logical_or",
    "logical_xor", "matmul", "matvec", "maximum", "minimum", "mod", "modf", "multiply",
    "negative", "nextafter", "not_equal", "positive", "pow", "power", "rad2deg", "radians",
    "reciprocal", "remainder", "right_shift", "rint", "sign", "signbit", "sin", "sinh",
    "spacing", "sqrt", "square", "subtract", "tan", "tanh", "true_divide", "trunc", "vecdot",
    "vecmat",
    "bool", "bool_", "byte", "bytes_", "cdouble", "character", "clongdouble", "complex128",
    "complex256", "complex64", "complexfloating", "csingle", "datetime64", "double",
    "flexible", "float128", "float16", "float32", "float64", "floating", "generic", "half",
    "inexact", "int16", "int32", "int64", "int8", "int_", "intc", "integer", "intp", "long",
    "longdouble", "longlong", "number", "object_", "record", "short", "signedinteger",
    "single", "str_", "timedelta64", "ubyte", "uint", "uint16", "uint32", "uint64", "uint8",
    "uintc", "uintp", "ulong", "ulonglong", "unsignedinteger", "ushort", "void",
    "float_", "complex_", "unicode_", "string_", "object0", "bool8",
};

// scikit-learn: its classes are trusted in every module but these (which download, run
// processes, or exist for testing); its functions only where they are estimator parameters
// (scoring functions, kernels, univariate statistics).
const std::array<std::string_view, 12> kSklearnExcluded{
    "sklearn.datasets", "sklearn.externals", "sklearn.utils._testing",
    "sklearn.utils.estimator_checks", "sklearn.utils._joblib", "sklearn.utils.parallel",
    "sklearn.utils.fixes", "sklearn.utils._show_versions", "sklearn._build_utils",
    "sklearn.conftest", "sklearn.__check_build", "sklearn.tests"};
const std::array<std::string_view, 3> kSklearnFunctionModules{
    "sklearn.metrics", "sklearn.feature_selection._univariate_selection",
    "sklearn.feature_selection._mutual_info"};

const std::array<std::string_view, 5> kOnnxTrustedDomains{
    "", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "com.microsoft"};

struct OnnxDanger {
  std::string_view domain;
  std::string_view op_prefix;
};
const std::array<OnnxDanger, 3> kOnnxDangerous{
    OnnxDanger{"com.microsoft", "PythonOp"}, OnnxDanger{"ai.onnx.contrib", "Py"},
    OnnxDanger{"com.microsoft.extensions", "Py"}};

// ---------------------------------------------------------------------------------------------

bool starts_with_module(std::string_view path, std::string_view module) {
  return path == module ||
         (path.size() > module.size() && path.substr(0, module.size()) == module &&
          path[module.size()] == '.');
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

template <class Range>
bool contains(const Range& range, std::string_view value) {
  return std::find(std::begin(range), std::end(range), value) != std::end(range);
}

// starts_with_module(path, module + "." + name), without building the joined string: this
// runs for every table entry on every distinct import.
bool starts_with_entry(std::string_view path, std::string_view module, std::string_view name) {
  return path.size() > module.size() && path.substr(0, module.size()) == module &&
         path[module.size()] == '.' && starts_with_module(path.substr(module.size() + 1), name);
}

std::string_view top_level(std::string_view path) { return path.substr(0, path.find('.')); }

// kDangerous grouped by the top-level package of each entry's module, in table order: a name
// can only match entries of its own top-level package, and every distinct import of every file
// is classified (a linear walk of the whole table was most of the audit of a small model).
const std::unordered_map<std::string_view, std::vector<const DangerEntry*>>& dangerous_by_package() {
  static const auto index = [] {
    std::unordered_map<std::string_view, std::vector<const DangerEntry*>> by;
    for (const auto& e : kDangerous) by[top_level(e.module)].push_back(&e);
    return by;
  }();
  return index;
}

// The category of the first dangerous entry matching `module`.`name`, or empty.
std::string danger_category(std::string_view module, std::string_view name) {
  // Appended, not formatted: this runs twice for every distinct import of every pickle.
  std::string full;
  full.reserve(module.size() + 1 + name.size());
  if (!module.empty()) full.append(module).append(1, '.');
  full.append(name);
  const auto& index = dangerous_by_package();
  auto bucket = index.find(top_level(full));
  if (bucket == index.end()) return {};
  for (const DangerEntry* entry : bucket->second) {
    const DangerEntry& e = *entry;
    if (e.name == "*") {
      if (starts_with_module(module, e.module) || starts_with_module(full, e.module))
        return std::string(e.category);
    } else if ((module == e.module && starts_with_module(name, e.name)) ||
               starts_with_entry(full, e.module, e.name)) {
      return std::string(e.category);
    }
  }
  return {};
}

// Dotted names walk attributes (protocol >= 4); flag walks into interpreter internals.
std::string traversal_category(std::string_view name) {
  auto parts = split_dots(name);
  if (parts.size() < 2) return {};
  for (std::string_view p : parts) {
    if (contains(kDangerousAttributes, p) || contains(kDangerousPathComponents, p))
      return "attribute traversal";
    if (p.empty()) return "attribute traversal";
  }
  if (contains(kDangerousLeaves, parts.back())) return "attribute traversal";
  return {};
}

bool class_like(std::string_view name) {
  if (name.empty()) return false;
  if (std::isupper(static_cast<unsigned char>(name[0]))) return true;
  return name.size() > 1 && name[0] == '_' && std::isupper(static_cast<unsigned char>(name[1]));
}

bool sklearn_trusted(std::string_view module, std::string_view name) {
  if (!starts_with_module(module, "sklearn") || name.find('.') != std::string_view::npos)
    return false;
  for (std::string_view excluded : kSklearnExcluded)
    if (starts_with_module(module, excluded)) return false;
  if (module.find(".tests") != std::string_view::npos) return false;
  if (class_like(name) || name.starts_with("__pyx_unpickle_") || name == "newObj") return true;
  for (std::string_view m : kSklearnFunctionModules)
    if (starts_with_module(module, m) && !name.starts_with("_")) return true;
  return false;
}

bool builtin_trusted(std::string_view module, std::string_view name) {
  for (const auto& [m, n] : kTrusted)
    if (m == module && n == name) return true;
  if (module == "numpy" && contains(kNumpyNames, name)) return true;
  return sklearn_trusted(module, name);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool valid_identifier_path(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return s.find("..") == std::string_view::npos;
}

}  // namespace

const std::vector<DangerEntry>& dangerous_table() { return kDangerous; }

QualifiedName map_python2_name(std::string_view module, std::string_view name) {
  // Python's _compat_pickle: NAME_MAPPING entries first, then IMPORT_MAPPING of the module.
  static const std::vector<std::pair<std::pair<std::string_view, std::string_view>,
                                     std::pair<std::string_view, std::string_view>>>
      kNames{
          {{"__builtin__", "xrange"}, {"builtins", "range"}},
          {{"__builtin__", "reduce"}, {"functools", "reduce"}},
          {{"__builtin__", "intern"}, {"sys", "intern"}},
          {{"__builtin__", "unichr"}, {"builtins", "chr"}},
          {{"__builtin__", "unicode"}, {"builtins", "str"}},
          {{"__builtin__", "long"}, {"builtins", "int"}},
          {{"__builtin__", "basestring"}, {"builtins", "str"}},
          {{"itertools", "izip"}, {"builtins", "zip"}},
          {{"itertools", "imap"}, {"builtins", "map"}},
          {{"itertools", "ifilter"}, {"builtins", "filter"}},
          {{"_socket", "fromfd"}, {"socket", "fromfd"}},
          {{"urllib", "urlopen"}, {"urllib.request", "urlopen"}},
          {{"urllib", "urlretrieve"}, {"urllib.request", "urlretrieve"}},
          {{"multiprocessing.forking", "Popen"}, {"multiprocessing.popen_fork", "Popen"}},
          {{"socket", "_socketobject"}, {"socket", "SocketType"}},
      };
  static const std::vector<std::pair<std::string_view, std::string_view>> kModules{
      {"__builtin__", "builtins"}, {"copy_reg", "copyreg"}, {"exceptions", "builtins"},
      {"Queue", "queue"}, {"SocketServer", "socketserver"}, {"ConfigParser", "configparser"},
      {"repr", "reprlib"}, {"Tkinter", "tkinter"}, {"markupbase", "_markupbase"},
      {"_winreg", "winreg"}, {"thread", "_thread"}, {"dummy_thread", "_dummy_thread"},
      {"dbhash", "dbm.bsd"}, {"dumbdbm", "dbm.dumb"}, {"dbm", "dbm.ndbm"}, {"gdbm", "dbm.gnu"},
      {"xmlrpclib", "xmlrpc.client"}, {"SimpleXMLRPCServer", "xmlrpc.server"},
      {"httplib", "http.client"}, {"htmlentitydefs", "html.entities"},
      {"HTMLParser", "html.parser"}, {"Cookie", "http.cookies"},
      {"cookielib", "http.cookiejar"}, {"BaseHTTPServer", "http.server"},
      {"test.test_support", "test.support"}, {"commands", "subprocess"},
      {"urlparse", "urllib.parse"}, {"robotparser", "urllib.robotparser"},
      {"urllib2", "urllib.request"}, {"anydbm", "dbm"}, {"_abcoll", "collections.abc"},
      {"cPickle", "pickle"}, {"_elementtree", "xml.etree.ElementTree"},
      {"DocXMLRPCServer", "xmlrpc.server"}, {"SimpleHTTPServer", "http.server"},
      {"CGIHTTPServer", "http.server"}, {"UserDict", "collections"},
      {"UserList", "collections"}, {"UserString", "collections"}, {"whichdb", "dbm"},
      {"StringIO", "io"}, {"cStringIO", "io"},
  };
  for (const auto& [from, to] : kNames)
    if (from.first == module && from.second == name)
      return {std::string(to.first), std::string(to.second)};
  for (const auto& [from, to] : kModules)
    if (from == module) return {std::string(to), std::string(name)};
  return {std::string(module), std::string(name)};
}

Classification Policy::classify(std::string_view module, std::string_view name) const {
  QualifiedName mapped = map_python2_name(module, name);
  // Both spellings are checked for danger: the loader maps names only for protocols < 3.
  if (std::string c = danger_category(module, name); !c.empty()) return {Trust::kDangerous, c};
  // (Most names map to themselves: the same spelling is not checked twice.)
  if (mapped.module != module || mapped.name != name)
    if (std::string c = danger_category(mapped.module, mapped.name); !c.empty())
      return {Trust::kDangerous, c};
  if (std::string c = traversal_category(name); !c.empty()) return {Trust::kDangerous, c};
  if (builtin_trusted(mapped.module, mapped.name) || user_trusted(mapped.module, mapped.name))
    return {Trust::kTrusted, {}};
  return {Trust::kUntrusted, {}};
}

Classification Policy::classify_module(std::string_view module) const {
  for (const auto& e : kDangerous)
    if (e.name == "*" && starts_with_module(module, e.module))
      return {Trust::kDangerous, std::string(e.category)};
  return {Trust::kUntrusted, {}};
}

Classification Policy::classify_code_name(std::string_view name) const {
  std::string_view top = top_level(name);  // `import os.path` names "os.path"
  for (const CodeName& c : kCodeNames)
    if (c.name == top || c.name == name) return {Trust::kDangerous, std::string(c.category)};
  std::string category;
  if (auto dot = name.rfind('.'); dot != std::string_view::npos)  // a constant "os.system"
    category = danger_category(name.substr(0, dot), name.substr(dot + 1));
  else if (!contains(kCommonBuiltinWords, name))  // eval, exec, open, getattr, __import__...
    category = danger_category("builtins", name);
  if (category.empty()) return {Trust::kUntrusted, {}};
  return {Trust::kDangerous, category};
}

bool Policy::user_trusted(std::string_view module, std::string_view name) const {
  std::string full = fmt::format("{}.{}", module, name);
  return contains(user_exact_, full) || contains(user_modules_, module);
}

Status Policy::trust(std::string_view entry) {
  entry = trim(entry);
  if (entry.ends_with(".*")) {
    std::string_view module = entry.substr(0, entry.size() - 2);
    if (!valid_identifier_path(module))
      return make_error(fmt::format("malformed trust entry \"{}\": expected module.name or "
                                    "module.*",
                                    entry));
    user_modules_.emplace_back(module);
    return ok_status();
  }
  if (!valid_identifier_path(entry) || entry.find('.') == std::string_view::npos)
    return make_error(fmt::format(
        "malformed trust entry \"{}\": expected module.name or module.*", entry));
  user_exact_.emplace_back(entry);
  return ok_status();
}

Status Policy::add_trust_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(fmt::format("{}: cannot open trust file", path));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string_view text = line;
    if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    text = trim(text);
    if (text.empty()) continue;
    if (auto st = trust(text); !st)
      return make_error(fmt::format("{}:{}: {}", path, number, st.error().message));
  }
  return ok_status();
}

bool Policy::onnx_domain_trusted(std::string_view domain) const {
  return contains(kOnnxTrustedDomains, domain);
}

bool Policy::onnx_operator_dangerous(std::string_view domain, std::string_view op_type) const {
  for (const auto& d : kOnnxDangerous)
    if (d.domain == domain && op_type.starts_with(d.op_prefix)) return true;
  return false;
}

}  // namespace crossload::audit
