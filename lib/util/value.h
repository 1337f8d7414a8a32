// Value: one SQLite cell as it was stored (NULL, integer, real or text).
// Image columns travel between archives as Values so that a remote integer
// stays an integer and a NULL stays distinguishable from an empty string.
#pragma once

#include <cstdint>
#include <string>

namespace indafoto {

struct Value {
  enum class Type { kNull, kInteger, kReal, kText };
  Type type = Type::kNull;
  int64_t integer = 0;
  double real = 0;
  std::string text;

  static Value Null() { return Value(); }
  static Value Integer(int64_t v) { Value x; x.type = Type::kInteger; x.integer = v; return x; }
  static Value Real(double v) { Value x; x.type = Type::kReal; x.real = v; return x; }
  static Value Text(std::string v) { Value x; x.type = Type::kText; x.text = std::move(v); return x; }

  bool is_null() const { return type == Type::kNull; }
  // "Missing" for merge purposes: NULL or an empty string.
  bool IsMissing() const { return type == Type::kNull || (type == Type::kText && text.empty()); }
  // Text form for logs and comparisons of keys.
  std::string ToString() const;
  bool operator==(const Value& o) const;
};

}  // namespace indafoto
