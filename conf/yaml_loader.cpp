#include "conf/yaml_loader.h"

#include <cstdlib>
#include <set>
#include <yaml-cpp/yaml.h>

namespace gemgate::conf {

namespace {

Mark mark_of(const YAML::Mark& m, const std::string& file) {
  Mark out;
  out.file = file;
  // An empty document has no position (yaml-cpp gives -1): point at its start.
  out.line = m.line >= 0 ? m.line + 1 : 1;
  out.column = m.column >= 0 ? m.column + 1 : 1;
  return out;
}

ConfigNode convert(const YAML::Node& node, const std::string& file, const EnvLookup& env,
                   ConfigErrors& errors, int depth) {
  Mark mark = mark_of(node.Mark(), file);
  if (depth > 64) {
    errors.add(mark, "configuration is nested too deeply");
    return ConfigNode();
  }
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      std::string value = substitute_env(node.Scalar(), mark, env, errors, &mark.env);
      return ConfigNode::scalar(std::move(value), mark);
    }
    case YAML::NodeType::Sequence: {
      ConfigNode seq = ConfigNode::sequence(mark);
      for (const YAML::Node& item : node) seq.push(convert(item, file, env, errors, depth + 1));
      return seq;
    }
    case YAML::NodeType::Map: {
      ConfigNode map = ConfigNode::map(mark);
      std::set<std::string> seen;
      for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        Mark key_mark = mark_of(key.Mark(), file);
        if (!key.IsScalar()) {
          errors.add(key_mark, "map keys must be plain names");
          continue;
        }
        if (!seen.insert(key.Scalar()).second) {
          errors.add(key_mark, "duplicate key '" + key.Scalar() + "'");
          continue;
        }
        map.put(key.Scalar(), convert(entry.second, file, env, errors, depth + 1));
      }
      return map;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return ConfigNode::null_at(mark);
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::string substitute_env(std::string_view text, const Mark& at, const EnvLookup& env,
                           ConfigErrors& errors, std::string* from_env) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("${", i);
    if (open == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, open - i));
    size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) {
      errors.add(at, "unterminated '${' in value");
      out.append(text.substr(open));
      break;
    }
    std::string_view expr = text.substr(open + 2, close - open - 2);
    size_t dflt = expr.find(":-");
    std::string name(expr.substr(0, dflt));
    bool valid = !name.empty();
    for (char c : name) {
      valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    }
    if (!valid) {
      errors.add(at, "bad environment reference '${" + std::string(expr) + "}'");
    } else if (auto value = env(name); value && !value->empty()) {
      out.append(*value);
      if (from_env && from_env->find(name) == std::string::npos) {
        *from_env += (from_env->empty() ? "" : ", ") + name;
      }
    } else if (dflt != std::string_view::npos) {
      out.append(expr.substr(dflt + 2));
    } else if (value) {
      // set but empty, no fallback: keep it empty
    } else {
      errors.add(at, "environment variable " + name + " is not set (write ${" + name +
                         ":-fallback} to allow that)");
    }
    i = close + 1;
  }
  return out;
}

std::optional<ConfigNode> load_yaml(std::string_view text, const std::string& file,
                                    const EnvLookup& env, ConfigErrors& errors) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    errors.add(mark_of(e.mark, file), e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    errors.add(mark_of(e.mark, file), e.msg);
    return std::nullopt;
  }
  try {
    return convert(root, file, env, errors, 0);
  } catch (const YAML::Exception& e) {
    errors.add(mark_of(e.mark, file), e.msg);
    return std::nullopt;
  }
}

}  // namespace gemgate::conf
