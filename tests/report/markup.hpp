// Checks on generated HTML and SVG shared by the report tests: well-formedness (every element
// closed in order, quoted attributes, escaped text), finite numbers in the SVG's coordinates, and
// counts of elements by tag and class.
#pragma once

#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace quarry::testing {

/// "" when `html` is well formed, else the first problem and where: elements close in the order
/// they open (HTML's void elements aside), attribute values are double-quoted and hold no '<',
/// '&' starts an entity, text holds no raw '>', and coordinate attributes hold only numbers.
inline std::string markup_problem(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "input", "link"};
  static const std::set<std::string> kNumeric = {
      "x", "y", "x1", "x2", "y1", "y2", "width", "height", "cx", "cy", "r", "points", "viewBox"};
  std::vector<std::string> open;
  auto where = [&](std::size_t i) { return " at offset " + std::to_string(i); };
  // &amp; &lt; &gt; &quot; &#39; or &#NNN;
  auto entity_ok = [&](std::size_t i) {
    for (const char* name : {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"})
      if (html.compare(i, std::char_traits<char>::length(name), name) == 0) return true;
    std::size_t j = i + 1;
    if (j >= html.size() || html[j] != '#') return false;
    const std::size_t digits = ++j;
    while (j < html.size() && std::isdigit(static_cast<unsigned char>(html[j]))) ++j;
    return j > digits && j < html.size() && html[j] == ';';
  };
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '&') {
      if (!entity_ok(i)) return "bare '&' in text" + where(i);
      ++i;
      continue;
    }
    if (c == '>') return "raw '>' in text" + where(i);
    if (c != '<') {
      ++i;
      continue;
    }
    if (html.compare(i, 9, "<!DOCTYPE") == 0) {
      i = html.find('>', i) + 1;
      continue;
    }
    if (html.compare(i, 4, "<!--") == 0) {
      const auto end = html.find("-->", i);
      if (end == std::string::npos) return "unclosed comment" + where(i);
      i = end + 3;
      continue;
    }
    const std::size_t start = i++;
    const bool closing = i < html.size() && html[i] == '/';
    if (closing) ++i;
    std::string name;
    while (i < html.size() && (std::isalnum(static_cast<unsigned char>(html[i])) || html[i] == '-'))
      name += html[i++];
    if (name.empty()) return "'<' that starts no tag" + where(start);
    if (closing) {
      if (i >= html.size() || html[i] != '>') return "malformed </" + name + where(start);
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes <" + (open.empty() ? "nothing" : open.back()) + ">" +
               where(start);
      open.pop_back();
      ++i;
      continue;
    }
    bool self_closing = false;
    for (;;) {
      while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i]))) ++i;
      if (i >= html.size()) return "unterminated <" + name + where(start);
      if (html[i] == '>') {
        ++i;
        break;
      }
      if (html.compare(i, 2, "/>") == 0) {
        self_closing = true;
        i += 2;
        break;
      }
      std::string attr;
      while (i < html.size() && (std::isalnum(static_cast<unsigned char>(html[i])) ||
                                 html[i] == '-' || html[i] == ':'))
        attr += html[i++];
      if (attr.empty()) return "bad attribute in <" + name + where(i);
      if (i >= html.size() || html[i] != '=') continue;  // a bare attribute
      if (i + 1 >= html.size() || html[i + 1] != '"')
        return "unquoted attribute " + attr + " in <" + name + where(i);
      const std::size_t value_start = i + 2;
      const std::size_t value_end = html.find('"', value_start);
      if (value_end == std::string::npos) return "unterminated attribute " + attr + where(i);
      const std::string value = html.substr(value_start, value_end - value_start);
      if (value.find('<') != std::string::npos) return "'<' in attribute " + attr + where(i);
      for (std::size_t k = value.find('&'); k != std::string::npos; k = value.find('&', k + 1))
        if (!entity_ok(value_start + k)) return "bare '&' in attribute " + attr + where(i);
      if (kNumeric.contains(attr) &&
          value.find_first_not_of("-+0123456789., ") != std::string::npos)
        return "attribute " + attr + "=\"" + value + "\" is not numeric" + where(i);
      i = value_end + 1;
    }
    if (self_closing || kVoid.contains(name)) continue;
    if (name == "style") {  // raw text up to </style>
      const auto end = html.find("</style>", i);
      if (end == std::string::npos) return "unclosed <style>" + where(start);
      i = end + 8;
      continue;
    }
    open.push_back(name);
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  return "";
}

/// How many times `needle` occurs in `text`.
inline std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto k = text.find(needle); k != std::string::npos; k = text.find(needle, k + needle.size()))
    ++n;
  return n;
}

/// True when `html` says "nan" or "inf" as a word, in text or in a tag (a number printed raw).
inline bool mentions_non_finite(const std::string& html) {
  auto letter = [&](std::size_t k) {
    return k < html.size() && std::isalpha(static_cast<unsigned char>(html[k]));
  };
  for (std::size_t k = 0; k + 3 <= html.size(); ++k) {
    std::string word = html.substr(k, 3);
    for (auto& ch : word) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if ((word == "nan" || word == "inf") && (k == 0 || !letter(k - 1)) && !letter(k + 3))
      return true;
  }
  return false;
}

}  // namespace quarry::testing
