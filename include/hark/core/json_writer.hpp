#pragma once
// json_writer: appends JSON text to a string without building a document.
//
// Written by hand for the capture path: nlohmann::json (used everywhere else) allocates a node
// per value, and the store serializes tens of thousands of entries per second. The writer only
// appends; the caller is responsible for well-formed nesting (asserted in debug builds).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::json {

class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  writer& begin_object() { return open('{'); }
  writer& end_object() { return close('}'); }
  writer& begin_array() { return open('['); }
  writer& end_array() { return close(']'); }

  /** The next member's name (inside an object). */
  writer& key(std::string_view name);

  /** A string value; invalid UTF-8 sequences are replaced by U+FFFD. */
  writer& value(std::string_view s);
  writer& value(const char* s) { return value(std::string_view(s)); }
  writer& value(const std::string& s) { return value(std::string_view(s)); }
  writer& value(bool b);
  writer& value(std::int64_t n);
  writer& value(std::uint64_t n);
  writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  writer& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
  writer& value(double d);  ///< non-finite values are written as null
  writer& null();

  template <class T>
  writer& value(const std::optional<T>& v) {
    return v ? value(*v) : null();
  }

  /** Appends already-serialized JSON as the next value. */
  writer& raw(std::string_view json_text);

 private:
  writer& open(char c);
  writer& close(char c);
  void separate();

  std::string& out_;
  bool first_ = true;  ///< no value yet at the current nesting level
  bool after_key_ = false;
};

/** Whether `s` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or code points past
 *  U+10FFFF), i.e. whether append_string would copy it without replacing anything. */
bool is_valid_utf8(std::string_view s) noexcept;

/** Appends `s` as a JSON string literal (quotes included), replacing invalid UTF-8. */
void append_string(std::string& out, std::string_view s);

}  // namespace hark::json
