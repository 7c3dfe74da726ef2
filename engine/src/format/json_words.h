// SPDX-License-Identifier: Apache-2.0
// nlohmann::json failures in words for a person: its own texts ("[json.exception.parse_error.101]
// parse error at line 1, column 2: …") describe the library, not the file.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "format/mapped_file.h"

namespace mmfree {

inline std::string json_error_words(const nlohmann::json::exception& e) {
    if (const auto* p = dynamic_cast<const nlohmann::json::parse_error*>(&e))
        return "is not valid JSON (a syntax error near byte " + std::to_string(p->byte) + ")";
    if (dynamic_cast<const nlohmann::json::type_error*>(&e)) return "has a value of the wrong type";
    if (dynamic_cast<const nlohmann::json::out_of_range*>(&e)) return "lacks a required field";
    return "is not valid JSON";
}

// A JSON value for a one-line message: strings quoted and cut, other values by kind (dump() of a
// deeply nested value would recurse without bound).
inline std::string json_value_words(const nlohmann::json& v) {
    if (v.is_string()) return "\"" + printable(v.get_ref<const std::string&>(), 60) + "\"";
    if (v.is_number_integer() || v.is_number_float() || v.is_boolean() || v.is_null()) return v.dump();
    return std::string("a JSON ") + v.type_name();
}

} // namespace mmfree
