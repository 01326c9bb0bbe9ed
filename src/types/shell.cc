#include "lastbackend/types/shell.h"

namespace lb::types {

StatusOr<std::vector<std::string>> splitShell(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  bool inWord = false;  // distinguishes "" (an empty word) from no word
  enum { kPlain, kSingle, kDouble } mode = kPlain;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    switch (mode) {
      case kPlain:
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
          if (inWord) words.push_back(std::move(cur));
          cur.clear();
          inWord = false;
        } else if (c == '\'') {
          mode = kSingle;
          inWord = true;
        } else if (c == '"') {
          mode = kDouble;
          inWord = true;
        } else if (c == '\\') {
          if (++i == line.size()) return invalidArgument("trailing backslash in command");
          // A backslash-newline is a line continuation, as in sh.
          if (line[i] != '\n') cur += line[i], inWord = true;
        } else {
          cur += c;
          inWord = true;
        }
        break;
      case kSingle:
        if (c == '\'')
          mode = kPlain;
        else
          cur += c;
        break;
      case kDouble:
        if (c == '"') {
          mode = kPlain;
        } else if (c == '\\' && i + 1 < line.size() &&
                   (line[i + 1] == '"' || line[i + 1] == '\\' || line[i + 1] == '$' ||
                    line[i + 1] == '`' || line[i + 1] == '\n')) {
          // Inside double quotes only these are escapes; others keep the backslash.
          if (line[++i] != '\n') cur += line[i];
        } else {
          cur += c;
        }
        break;
    }
  }
  if (mode != kPlain) return invalidArgument("unterminated quote in command");
  if (inWord) words.push_back(std::move(cur));
  return words;
}

}  // namespace lb::types
