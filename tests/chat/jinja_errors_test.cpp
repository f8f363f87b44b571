// Jinja failure modes: syntax errors with positions, runtime errors as TemplateError (never a
// crash), raise_exception's message, and the limits that stop runaway templates (recursion,
// loops, memory).
#include <gtest/gtest.h>

#include "jinja_test_util.h"

namespace hearth::chat::jinja {
namespace {

using testing::ojson;
using testing::render;
using testing::render_error;

TEST(JinjaErrors, MalformedTemplatesAreSyntaxErrors) {
  const char* bad[] = {
      "{% if true %}no endif",
      "{% for x in y %}no endfor",
      "{% for in y %}{% endfor %}",
      "{% endif %}",
      "{% include 'x' %}",
      "{{ }}",
      "{{ 1 + }}",
      "{{ a, b }}",
      "{{ [1, 2 }}",
      "{{ f(a=1, 2) }}",
      "{% macro m(a=1, b) %}{% endmacro %}",
      "{% macro m(a, a) %}{% endmacro %}",
      "{% set %}",
      "{{ x | 1 }}",
      "{{ x is 1 }}",
      "{{ x[] }}",
      "{{ x[1:2:3:4] }}",
      "{% raw %}never closed",
  };
  for (const char* src : bad) {
    try {
      Template t(src, Options{});
      ADD_FAILURE() << "no syntax error for " << src;
    } catch (const TemplateError& e) {
      EXPECT_NE(std::string(e.what()).find("syntax error at line"), std::string::npos) << src << ": " << e.what();
    }
  }
}

TEST(JinjaErrors, SyntaxErrorNamesThePosition) {
  try {
    Template t("ok\n{% for x in xs %}\n  {{ x + }}\n{% endfor %}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("line 3, column 10"), std::string::npos) << e.what();
  }
}

TEST(JinjaErrors, RuntimeErrorsNameThePosition) {
  const std::string e = render_error("a\n{{ x | frobnicate }}", {{"x", 1}});
  EXPECT_NE(e.find("line 2, column 6"), std::string::npos) << e;
  EXPECT_NE(e.find("frobnicate"), std::string::npos) << e;
}

TEST(JinjaErrors, RuntimeFailures) {
  const char* bad[] = {
      "{{ (1, 2) }}",                      // tuples cannot be printed by the reference
      "{{ {1: 2} }}",                      // object keys must be strings
      "{{ x() }}",                         // calling a non-function
      "{{ 'a' * 2 }}",                     // no string repetition
      "{{ [1] | trim }}",                  // filter on the wrong type
      "{{ none.x[0] }}",                   // integer index on none
      "{% set a, b = [1] %}",              // unpacking mismatch
      "{% for a, b in [(1, 2)] %}{% endfor %}",  // tuples do not unpack in for loops
      "{{ range(1, 2, 0) }}",
      "{{ 'x'.split('') }}",
      "{{ 1 | tojson(indent='x') }}",
      "{{ namespace(1, 2) }}",
  };
  for (const char* src : bad) EXPECT_NE(render_error(src, {{"x", 1}}), "") << src;
}

TEST(JinjaErrors, RaiseException) {
  try {
    render("{% if messages | length == 0 %}{{ raise_exception('No messages: ' ~ n) }}{% endif %}",
           {{"messages", ojson::array()}, {"n", 0}});
    FAIL();
  } catch (const RaisedError& e) {
    EXPECT_EQ(e.message(), "No messages: 0");
    EXPECT_NE(std::string(e.what()).find("No messages: 0"), std::string::npos);
  }
  // A raise in an unexecuted branch is harmless.
  EXPECT_EQ(render("{% if false %}{{ raise_exception('x') }}{% endif %}ok"), "ok");
}

TEST(JinjaLimits, InfiniteRecursionStops) {
  const std::string e = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_NE(e.find("recursion"), std::string::npos) << e;
}

TEST(JinjaLimits, DeepNestingIsRejectedAtParseTime) {
  std::string deep = "{{ ";
  for (int i = 0; i < 500; ++i) deep += "(";
  deep += "1";
  for (int i = 0; i < 500; ++i) deep += ")";
  deep += " }}";
  EXPECT_NE(render_error(deep).find("nested too deeply"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 300; ++i) ifs += "{% if true %}";
  for (int i = 0; i < 300; ++i) ifs += "{% endif %}";
  EXPECT_NE(render_error(ifs).find("nested too deeply"), std::string::npos);
}

TEST(JinjaLimits, HugeLoopsAndStringsStop) {
  EXPECT_NE(render_error("{% for i in range(100000000) %}{% endfor %}"), "");
  // Doubling a string 40 times would need a terabyte.
  EXPECT_NE(render_error("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"), "");
  EXPECT_NE(render_error("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"), "");
  // A loop that runs too many steps stops, with a configurable budget.
  RenderSettings small;
  small.limits.max_steps = 1000;
  EXPECT_NE(render_error("{% for i in range(5000) %}{{ i }}{% endfor %}", ojson::object(), false, small).find("steps"),
            std::string::npos);
  EXPECT_EQ(render("{% for i in range(300) %}{% endfor %}ok", ojson::object(), false, small), "ok");
}

TEST(JinjaLimits, DeeplyNestedValuesStop) {
  // Values are printed and freed recursively, so their nesting is bounded.
  EXPECT_NE(render_error("{% set ns = namespace(l=[]) %}{% for i in range(2000) %}{% set ns.l = [ns.l] %}{% endfor %}")
                .find("nested deeper"),
            std::string::npos);
  // A namespace holding itself can be used but not printed (the reference overflows its stack).
  EXPECT_EQ(render("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me.me is defined }}"), "true");
  EXPECT_NE(render_error("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}"), "");
  // Data nested deeper than kMaxDataDepth is refused before rendering.
  ojson deep = 1;
  for (int i = 0; i < 300; ++i) deep = ojson::array({deep});
  EXPECT_NE(render_error("{{ d | length }}", {{"d", deep}}), "");
  // A very long operator chain is too deep to evaluate, and is freed without recursion.
  std::string chain = "{{ 1";
  for (int i = 0; i < 20000; ++i) chain += " + 1";
  chain += " }}";
  EXPECT_NE(render_error(chain).find("recursion"), std::string::npos);
}

TEST(JinjaLimits, CopyingWorkIsCharged) {
  // Each slice copies the list: 60 slices of 20000 items are 1.2M units of work.
  RenderSettings small;
  small.limits.max_steps = 1'000'000;
  const char* src = "{% set l = range(20000) %}{% for i in range(60) %}{% set x = l[1:] %}{% endfor %}ok";
  EXPECT_NE(render_error(src, ojson::object(), false, small).find("steps"), std::string::npos);
  EXPECT_EQ(render(src), "ok");
}

TEST(JinjaErrors, NonObjectContextIsRejected) {
  EXPECT_THROW(Template("x").render(ojson::array()), TemplateError);
  EXPECT_EQ(Template("x").render(nullptr), "x");
}

TEST(JinjaErrors, InvalidUtf8InTheTemplateBecomesReplacementCharacters) {
  EXPECT_EQ(render("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
}

}  // namespace
}  // namespace hearth::chat::jinja
