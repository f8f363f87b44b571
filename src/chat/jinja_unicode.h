// Unicode helpers for the Jinja interpreter with JavaScript string semantics (UTF-16 code units,
// JS whitespace, V8 case mapping). Strings stay UTF-8; knows nothing about templates.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hearth::chat::jinja {

// Strings are UTF-8. A lone UTF-16 surrogate (from a "\ud83d" escape or from indexing into an
// astral character, both possible in JavaScript) is kept in its 3-byte WTF-8 form so code-unit
// semantics survive; sanitize_utf8() turns such strings into valid UTF-8 for output.

// Decodes one code point at s[i] (surrogates allowed); returns its byte length (>= 1).
// Invalid bytes decode as U+FFFD with length 1.
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp);
void append_utf8(std::string& out, char32_t cp);  // surrogates as 3-byte WTF-8

std::u16string to_utf16(std::string_view s);
std::string from_utf16(std::u16string_view s);
size_t utf16_length(std::string_view s);
bool is_ascii(std::string_view s);

// Valid UTF-8 for output: adjacent WTF-8 surrogate halves are paired, lone ones and invalid
// bytes become U+FFFD (what Node's UTF-8 encoder does with a JS string).
std::string sanitize_utf8(std::string_view s);
// Joins a + b, pairing a trailing high surrogate of a with a leading low surrogate of b.
std::string concat_strings(std::string_view a, std::string_view b);

// JavaScript's /\s/ and String.prototype.trim set (WhiteSpace + LineTerminator).
bool is_js_space(char32_t c);
size_t js_space_len(std::string_view s, size_t i);         // bytes of the space at i, 0 if none
size_t js_space_len_before(std::string_view s, size_t end); // bytes of the space ending at end
std::string_view js_trim_start(std::string_view s);
std::string_view js_trim_end(std::string_view s);
std::string_view js_trim(std::string_view s);

// String.prototype.toUpperCase / toLowerCase as V8 does them (full mappings, final sigma).
std::string js_to_upper(std::string_view s);
std::string js_to_lower(std::string_view s);

}  // namespace hearth::chat::jinja
