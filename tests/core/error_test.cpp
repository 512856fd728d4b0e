// one_line() and the one-line rule of every quarry::Error: a message quoting a user's text (a CSV
// field, a YAML key, stored JSON) never spans lines.
#include "quarry/core/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace quarry {
namespace {

TEST(OneLine, EscapesLineBreaksAndOtherControlCharacters) {
  EXPECT_EQ(one_line("plain text, 'quoted'"), "plain text, 'quoted'");
  EXPECT_EQ(one_line("a\nb\r\nc\td"), "a\\nb\\r\\nc\\td");
  EXPECT_EQ(one_line(std::string("nul\0esc\x1b del\x7f", 13)), "nul\\x00esc\\x1b del\\x7f");
  EXPECT_EQ(one_line("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93") << "UTF-8 is kept";
}

TEST(OneLine, EveryErrorMessageIsOneLine) {
  EXPECT_STREQ(InvalidArgument("column 'a\nb' is empty").what(), "column 'a\\nb' is empty");
  EXPECT_STREQ(StoreFailure(std::string("disk\nfull")).what(), "disk\\nfull");
  EXPECT_STREQ(UsageError("x").what(), "x");
}

}  // namespace
}  // namespace quarry
