// Jinja2 features @huggingface/jinja lacks, which hearth accepts by default (Options::extensions):
// raw blocks, tests with arguments, divisibleby, dict(), and the d, count, e/escape, round, batch,
// select and reject filters. With extensions off each of them fails, like the reference.
#include <gtest/gtest.h>

#include "jinja_test_util.h"

namespace hearth::chat::jinja {
namespace {

using testing::ojson;
using testing::render_error;
using testing::render_ext;

TEST(JinjaExtensions, RawBlock) {
  EXPECT_EQ(render_ext("a{% raw %}{{ x }}{% if %}{% endraw %}b"), "a{{ x }}{% if %}b");
  EXPECT_EQ(render_ext("a {%- raw -%}  x  {%- endraw -%} b"), "axb");
}

TEST(JinjaExtensions, TestsWithArguments) {
  EXPECT_EQ(render_ext("{{ 6 is divisibleby(3) }} {{ 7 is divisibleby(3) }} {{ 'a' is equalto('a') }} {{ 1 is not eq(2) }}"),
            "true false true true");
}

TEST(JinjaExtensions, Filters) {
  EXPECT_EQ(render_ext("{{ nothing | d('x') }} {{ nothing | d }}| {{ [1, 2] | count }} {{ '<a href=\"x\">&' | e }}"),
            "x | 2 &lt;a href=&#34;x&#34;&gt;&amp;");
  EXPECT_EQ(render_ext("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 7 | round }}"),
            "2.0 4.0 2.67 3.0 7");
  EXPECT_EQ(render_ext("{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | batch(2, 0) }}"), "[[1, 2], [3, 4], [5]] [[1, 2], [3, 0]]");
  EXPECT_EQ(render_ext("{{ [0, 1, 2, 3] | select | list }} {{ [1, 2, 3, 4] | select('odd') }} {{ ['a', 'b'] | reject('equalto', 'a') }}"),
            "[1, 2, 3] [1, 3] [\"b\"]");
  EXPECT_EQ(render_ext("{{ ['browser', 'code_interpreter'] | reject('equalto', 'code_interpreter') | join(', ') }}"), "browser");
}

TEST(JinjaExtensions, DictGlobal) {
  EXPECT_EQ(render_ext("{{ dict(a=1, b='x') }} {{ dict({'k': 1}) }}"), "{\"a\": 1, \"b\": \"x\"} {\"k\": 1}");
  // A context variable named dict wins over the builtin.
  EXPECT_EQ(render_ext("{{ dict }}", {{"dict", "mine"}}), "mine");
}

TEST(JinjaExtensions, StrictModeFailsLikeTheReference) {
  const char* extension_uses[] = {
      "{% raw %}x{% endraw %}", "{{ 4 is divisibleby(2) }}", "{{ dict(a=1) }}", "{{ x | d('y') }}",
      "{{ [1] | count }}",      "{{ 'a' | e }}",             "{{ 1.5 | round }}", "{{ [1] | batch(1) }}",
      "{{ [1] | select }}",     "{{ [1] | reject('odd') }}",
  };
  for (const char* src : extension_uses) {
    EXPECT_NE(render_error(src, ojson::object(), /*extensions=*/false), "") << src;
    EXPECT_EQ(render_error(src, ojson::object(), /*extensions=*/true), "") << src;
  }
}

}  // namespace
}  // namespace hearth::chat::jinja
