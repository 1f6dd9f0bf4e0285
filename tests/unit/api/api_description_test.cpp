// The API's descriptions against the code: docs/openapi.json is well-formed OpenAPI 3.0, lists
// exactly the routes of the router's table, and each documented operation routes somewhere and
// answers one of its documented statuses; docs/json-rpc.md lists exactly the JSON-RPC methods.

#include "api_fixture.hpp"

#include "hark/capture/tls_registry.hpp"
#include "hark/core/version.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace hark::api::test {
namespace {

const std::filesystem::path source_dir{HARK_SOURCE_DIR};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/** docs/openapi.json; a test that needs it fails (not crashes) when it does not parse. */
json load_openapi() {
  auto doc = json::parse(read_text(source_dir / "docs" / "openapi.json"), nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "docs/openapi.json is not JSON";
  EXPECT_TRUE(doc.is_object());
  return doc.is_object() ? doc : json::object();
}

/** The operation keys of an OpenAPI 3.0 Path Item. */
constexpr std::array<std::string_view, 8> operation_keys{"get",     "put",  "post",  "delete",
                                                         "options", "head", "patch", "trace"};

struct operation {
  std::string method;  ///< upper case, as the router names it: `GET`
  std::string path;    ///< the document's template: `/api/sessions/{sid}/entries`
  json item;           ///< the Path Item
  json op;             ///< the Operation
};

std::vector<operation> operations(const json& doc) {
  std::vector<operation> out;
  if (!doc.contains("paths") || !doc["paths"].is_object()) {
    return out;
  }
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto key : operation_keys) {
      const auto it = item.find(std::string(key));
      if (it == item.end()) {
        continue;
      }
      std::string method(key);
      std::transform(method.begin(), method.end(), method.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
      out.push_back({std::move(method), path, item, *it});
    }
  }
  return out;
}

// `/api/sessions/{sid}/entries` → `/api/sessions/*/entries`, the router's notation.
std::string normalize(const std::string& path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      const auto end = path.find('}', i);
      if (end != std::string::npos) {
        out += '*';
        i = end;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}

/** The names between braces in a path template, in order. */
std::vector<std::string> template_names(const std::string& path) {
  std::vector<std::string> names;
  for (auto open = path.find('{'); open != std::string::npos; open = path.find('{', open + 1)) {
    const auto close = path.find('}', open);
    if (close == std::string::npos) {
      break;
    }
    names.push_back(path.substr(open + 1, close - open - 1));
  }
  return names;
}

/** `node` itself, or what its `$ref` (a local JSON pointer) names; null when it resolves to
 *  nothing. */
const json* resolve(const json& doc, const json& node) {
  if (!node.is_object() || !node.contains("$ref")) {
    return &node;
  }
  const auto& ref = node["$ref"];
  if (!ref.is_string()) {
    return nullptr;
  }
  const auto text = ref.get<std::string>();
  if (text.rfind("#/", 0) != 0) {
    return nullptr;
  }
  const json::json_pointer pointer(text.substr(1));
  return doc.contains(pointer) ? &doc.at(pointer) : nullptr;
}

/** The path parameters an operation declares, its path item's and its own: name → required. */
std::vector<std::pair<std::string, bool>> declared_path_params(const json& doc,
                                                               const operation& o) {
  std::vector<std::pair<std::string, bool>> out;
  for (const json* holder : {&o.item, &o.op}) {
    if (!holder->contains("parameters")) {
      continue;
    }
    for (const auto& p : (*holder)["parameters"]) {
      const json* param = resolve(doc, p);
      if (param != nullptr && param->value("in", "") == "path") {
        out.emplace_back(param->value("name", ""), param->value("required", false));
      }
    }
  }
  return out;
}

std::string route_key(const std::string& method, const std::string& pattern) {
  return method + " " + pattern;
}

/** Every `$ref` under `node`, with where it was found. */
void collect_refs(const json& node, const std::string& where,
                  std::vector<std::pair<std::string, std::string>>& out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) {
        out.emplace_back(value.get<std::string>(), where);
      } else {
        collect_refs(value, where + "/" + key, out);
      }
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      collect_refs(node[i], where + "/" + std::to_string(i), out);
    }
  }
}

TEST(api_description, openapi_document_is_openapi_3_0) {
  const auto doc = load_openapi();
  ASSERT_TRUE(doc.contains("openapi") && doc["openapi"].is_string());
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.0.", 0), 0U) << doc["openapi"];
  ASSERT_TRUE(doc.contains("info"));
  EXPECT_EQ(doc["info"].value("title", ""), "Hark");
  EXPECT_EQ(doc["info"].value("version", ""), hark::version) << "the project() version";
  ASSERT_TRUE(doc.contains("servers") && !doc["servers"].empty());
  EXPECT_EQ(doc["servers"][0].value("url", ""), "http://127.0.0.1:8889");
  EXPECT_FALSE(operations(doc).empty());
}

TEST(api_description, every_operation_has_an_id_and_responses) {
  const auto doc = load_openapi();
  std::set<std::string> ids;
  for (const auto& o : operations(doc)) {
    const auto where = o.method + " " + o.path;
    ASSERT_TRUE(o.op.is_object()) << where;
    const auto id = o.op.value("operationId", "");
    EXPECT_FALSE(id.empty()) << where << ": no operationId";
    EXPECT_TRUE(ids.insert(id).second) << where << ": operationId " << id << " used twice";
    ASSERT_TRUE(o.op.contains("responses") && o.op["responses"].is_object()) << where;
    EXPECT_FALSE(o.op["responses"].empty()) << where << ": no responses";
    for (const auto& [status, response] : o.op["responses"].items()) {
      EXPECT_NE(resolve(doc, response), nullptr) << where << " " << status;
    }
  }
}

TEST(api_description, path_templates_and_path_parameters_agree) {
  const auto doc = load_openapi();
  for (const auto& o : operations(doc)) {
    const auto where = o.method + " " + o.path;
    const auto names = template_names(o.path);
    const auto declared = declared_path_params(doc, o);
    for (const auto& name : names) {
      const auto it = std::find_if(declared.begin(), declared.end(),
                                   [&](const auto& p) { return p.first == name; });
      EXPECT_NE(it, declared.end()) << where << ": {" << name << "} is not declared";
      if (it != declared.end()) {
        EXPECT_TRUE(it->second) << where << ": path parameter " << name << " must be required";
      }
    }
    for (const auto& [name, required] : declared) {
      EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
          << where << ": path parameter " << name << " is not in the path";
    }
  }
}

TEST(api_description, every_ref_resolves) {
  const auto doc = load_openapi();
  std::vector<std::pair<std::string, std::string>> refs;
  collect_refs(doc, "", refs);
  EXPECT_FALSE(refs.empty());
  for (const auto& [ref, where] : refs) {
    EXPECT_NE(resolve(doc, json{{"$ref", ref}}), nullptr) << ref << " at " << where;
  }
}

// The one comparison that follows routes being added or removed: both directions, exactly.
TEST(api_description, documented_paths_are_the_routes) {
  const auto doc = load_openapi();
  std::set<std::string> documented;
  for (const auto& o : operations(doc)) {
    documented.insert(route_key(o.method, normalize(o.path)));
  }
  std::set<std::string> routed;
  for (const auto& [method, pattern] : route_patterns()) {
    routed.insert(route_key(method, pattern));
  }
  for (const auto& key : routed) {
    EXPECT_TRUE(documented.count(key) != 0) << key << " is routed but not in docs/openapi.json";
  }
  for (const auto& key : documented) {
    EXPECT_TRUE(routed.count(key) != 0) << key << " is in docs/openapi.json but not routed";
  }
}

TEST(api_description, json_rpc_reference_lists_every_method) {
  // The method table of docs/json-rpc.md: rows `| [`name`](#anchor) | params | result |`.
  std::istringstream md(read_text(source_dir / "docs" / "json-rpc.md"));
  std::set<std::string> documented;
  bool in_table = false;
  for (std::string line; std::getline(md, line);) {
    if (line.rfind("| method | params | result |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) {
      continue;
    }
    if (line.empty() || line[0] != '|') {
      break;
    }
    const auto cell_end = line.find('|', 1);
    const auto cell =
        line.substr(1, cell_end == std::string::npos ? std::string::npos : cell_end - 1);
    const auto open = cell.find('`');
    const auto close = open == std::string::npos ? open : cell.find('`', open + 1);
    if (close != std::string::npos) {
      documented.insert(cell.substr(open + 1, close - open - 1));
    }
  }
  ASSERT_FALSE(documented.empty()) << "no method table in docs/json-rpc.md";
  std::set<std::string> implemented;
  for (const auto name : rpc_method_names()) {
    implemented.emplace(name);
  }
  for (const auto& name : implemented) {
    EXPECT_TRUE(documented.count(name) != 0) << name << " is not in docs/json-rpc.md";
  }
  for (const auto& name : documented) {
    EXPECT_TRUE(implemented.count(name) != 0) << name << " is in docs/json-rpc.md, not in rpc";
  }
}

/** Sends every documented operation that the router has, with sample values. */
class api_description_calls : public api_fixture {
 protected:
  api_description_calls() {
    ctx_->tls = &tls_;
    ctx_->ca_pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    ctx_->ca_der = std::string("\x30\x00", 2);
  }

  /** A fresh session with one entry and a passthrough pattern, so that the sample request
   *  reaches the handler's main path rather than an earlier request's deletion. */
  struct sample {
    std::string session_id;
    std::string entry_id;
    std::string pattern_id;
  };

  sample fresh_sample() {
    sample s;
    s.session_id = create_session("sample").value("id", "");
    auto record = make_entry(s.session_id, "example.com", std::chrono::milliseconds(0));
    s.entry_id = record.id;
    insert(std::move(record));
    s.pattern_id = tls_.add_passthrough("sample.example").id;
    return s;
  }

  /** The path with each `{name}` replaced by a sample value; empty (and a failure) for an
   *  unknown parameter name. */
  static std::string concrete_path(const std::string& path, const sample& s) {
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
      const auto close = path[i] == '{' ? path.find('}', i) : std::string::npos;
      if (close == std::string::npos) {
        out += path[i];
        continue;
      }
      const auto name = path.substr(i + 1, close - i - 1);
      if (name == "sid") {
        out += s.session_id;
      } else if (name == "eid") {
        out += s.entry_id;
      } else if (name == "id") {
        out += path.rfind("/api/passthrough/", 0) == 0 ? s.pattern_id : s.session_id;
      } else if (name == "connectionId") {
        out += "01J00000000000000000000000";
      } else if (name == "streamId") {
        out += "1";
      } else {
        ADD_FAILURE() << path << ": no sample value for {" << name << "}";
        return {};
      }
      i = close;
    }
    return out;
  }

  /** The operation's JSON request body example, or no body. */
  static std::string sample_body(const json& op) {
    const json::json_pointer pointer("/requestBody/content/application~1json/example");
    return op.contains(pointer) ? op.at(pointer).dump() : std::string();
  }

  static http::verb verb_of(const std::string& method) { return http::string_to_verb(method); }

  static bool routed(const operation& o) {
    const auto routes = route_patterns();
    return std::find(routes.begin(), routes.end(),
                     std::pair<std::string, std::string>(o.method, normalize(o.path))) !=
           routes.end();
  }

  capture::tls_registry tls_;
};

// Routes still missing from the router are reported by documented_paths_are_the_routes; here
// only routed operations are sent. Streamed answers (HAR export, events) are fine: handle()
// returns their head and drops the body stream unread.
TEST_F(api_description_calls, documented_operations_route_and_answer_documented_statuses) {
  const auto doc = load_openapi();
  std::size_t sent = 0;
  for (const auto& o : operations(doc)) {
    if (!routed(o)) {
      continue;
    }
    const auto where = o.method + " " + o.path;
    const auto target = concrete_path(o.path, fresh_sample());
    if (target.empty()) {
      continue;
    }
    const auto res = call(verb_of(o.method), target, sample_body(o.op));
    ++sent;
    const auto status = res.result_int();
    EXPECT_NE(status, 405U) << where << ": " << res.body();
    const bool unrouted = status == 404 && body_json(res) == json({{"error", "Not found"}});
    EXPECT_FALSE(unrouted) << where << ": the router found no route";
    EXPECT_NE(status, 500U) << where << ": " << res.body();
    const auto& responses = o.op["responses"];
    const auto documented = responses.find(std::to_string(status));
    if (documented == responses.end()) {
      EXPECT_TRUE(responses.contains("default"))
          << where << " answered " << status << ", not documented: " << res.body();
      continue;
    }
    // The answer's media type is one the documented response lists.
    const json* response = resolve(doc, *documented);
    ASSERT_NE(response, nullptr) << where;
    if (!response->contains("content") || res.body().empty()) {
      continue;
    }
    const auto& content = (*response)["content"];
    const auto header = res[http::field::content_type];
    const std::string header_text(header.data(), header.size());
    const auto type = header_text.substr(0, header_text.find(';'));
    EXPECT_TRUE(content.contains(type) || content.contains("*/*"))
        << where << " " << status << " answered " << type << ", documented " << content.dump();
  }
  EXPECT_GT(sent, 0U);
}

// The token applies to what the document says it does: `security: []` exactly where the
// router lets a request through without the token.
TEST_F(api_description_calls, security_requirements_match_the_token_check) {
  const auto doc = load_openapi();
  ASSERT_TRUE(doc.contains("security"));
  for (const auto& o : operations(doc)) {
    if (!routed(o)) {
      continue;
    }
    const auto where = o.method + " " + o.path;
    const auto security = o.op.contains("security") ? o.op["security"] : doc["security"];
    const bool open = security.empty();
    ctx_->api_token.clear();
    const auto target = concrete_path(o.path, fresh_sample());
    ctx_->api_token = "s3cret-token";
    const auto res = call(verb_of(o.method), target, sample_body(o.op));
    if (open) {
      EXPECT_NE(res.result(), http::status::unauthorized) << where << " documented without token";
    } else {
      EXPECT_EQ(res.result(), http::status::unauthorized) << where << " documented with token";
      EXPECT_TRUE(o.op["responses"].contains("401")) << where << ": 401 not documented";
    }
  }
}

}  // namespace
}  // namespace hark::api::test
