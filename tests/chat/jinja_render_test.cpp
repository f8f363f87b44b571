// Jinja evaluation: expressions, JavaScript value semantics of the reference (number printing,
// loose equality, undefined/none), statements and scoping, macros, filters, tests, tojson and
// Unicode string handling. Expected outputs follow from the reference's documented semantics;
// the quirky ones were checked against @huggingface/jinja.
#include <gtest/gtest.h>

#include "jinja_test_util.h"

namespace hearth::chat::jinja {
namespace {

using testing::ojson;
using testing::render;
using testing::render_error;

TEST(JinjaExpressions, Literals) {
  EXPECT_EQ(render("{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 2.0 }} {{ 'a' }} {{ true }} {{ none }}|"), "1 -2 1.5 2.0 a true |");
  EXPECT_EQ(render("{{ [1, 'a', none, [], {}] }}"), "[1, \"a\", null, [], {}]");
  EXPECT_EQ(render("{{ {'k': 'v', 'n': 1.0} }}"), "{\"k\": \"v\", \"n\": 1}");
  EXPECT_EQ(render("{{ True }} {{ False }} {{ None }}|"), "true false |");
}

TEST(JinjaExpressions, Arithmetic) {
  EXPECT_EQ(render("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 / 2 }} {{ 6 / 3 }} {{ 7 // 2 }} {{ -7 // 2 }}"), "7 9 3.5 2.0 3 -4");
  // % keeps the sign of the dividend (JavaScript), ** is left-associative.
  EXPECT_EQ(render("{{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 3 ** 2 }} {{ 2 ** -1 }}"), "-1 1 64 0.5");
  EXPECT_EQ(render("{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 10 ** 21 }} {{ 10 ** 20 }} {{ 1 / 0 }}"),
            "0.30000000000000004 0.3333333333333333 1e+21 100000000000000000000 Infinity");
  EXPECT_EQ(render("{{ 3 * 1.0 }} {{ 1.5 + 1.5 }} {{ -0.0 }}"), "3.0 3.0 -0.0");
}

TEST(JinjaExpressions, NumbersFromData) {
  // JSON numbers become JavaScript numbers: integral floats are integers, big ones lose digits.
  const ojson ctx = {{"a", 1.0}, {"b", 2.5}, {"c", 12345678901234567890ULL}, {"d", 1e-7}, {"e", -0.0}};
  EXPECT_EQ(render("{{ a }} {{ b }} {{ c }} {{ d }} {{ e }}", ctx), "1 2.5 12345678901234567000 1e-7 0");
}

TEST(JinjaExpressions, Concatenation) {
  // `~` and `+` with a string use JavaScript's String(): 1.0 is "1", lists join with ",".
  EXPECT_EQ(render("{{ 1.0 ~ '' }} {{ 1.5 ~ '' }} {{ 'a' + 1 }} {{ true ~ '' }} {{ [1, 'x'] ~ '' }} {{ {'a': 1} ~ '' }}"),
            "1 1.5 a1 true 1,x [object Map]");
  EXPECT_EQ(render("{{ [1] + [2, 3] }}"), "[1, 2, 3]");
}

TEST(JinjaExpressions, ComparisonAndLogic) {
  // == is JavaScript's loose equality on the underlying values.
  EXPECT_EQ(render("{{ 1 == 1.0 }} {{ '1' == 1 }} {{ true == 1 }} {{ [] == [] }} {{ none == nothing }}"),
            "true true true false true");
  EXPECT_EQ(render("{{ 0 and 1 }} {{ 1 and 2 }} {{ 0 or 'x' }} {{ not [] }} {{ not {} }}"), "0 2 x true true");
  EXPECT_EQ(render("{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ '2' in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 1 in nothing }}"),
            "true true false true false");
  // No comparison chaining: (1 < 2) < 3 compares a boolean with a number, which the reference refuses.
  EXPECT_NE(render_error("{{ 1 < 2 < 3 }}"), "");
  EXPECT_NE(render_error("{{ 'a' < 'b' }}"), "");
}

TEST(JinjaExpressions, UndefinedAndNone) {
  EXPECT_EQ(render("[{{ nothing }}] [{{ nothing.attr.deeper }}] [{{ none }}] {{ nothing is defined }} {{ none is none }}"),
            "[] [] [] false true");
  // Arithmetic or concatenation with undefined/none fails, as in the reference.
  EXPECT_NE(render_error("{{ 'a' ~ nothing }}"), "");
  EXPECT_NE(render_error("{{ none + 'a' }}"), "");
  EXPECT_NE(render_error("{{ nothing | length }}"), "");
  // Items inside containers print as JSON ("undefined" for undefined, null for none).
  EXPECT_EQ(render("{{ [nothing, none] }} {{ [none, 1] ~ '' }}"), "[undefined, null] undefined,1");
}

TEST(JinjaExpressions, MemberAccess) {
  const ojson ctx = {{"o", {{"a", 1}, {"n", {{"x", ojson::array({10, 20})}}}}}, {"l", {1, 2, 3}}, {"s", "h\xC3\xA9llo"}};
  EXPECT_EQ(render("{{ o.a }} {{ o['a'] }} {{ o.n.x[1] }} {{ l[-1] }} {{ l.0 }} {{ l[7] }}|{{ o.zz }}|", ctx), "1 1 20 3 1 ||");
  EXPECT_EQ(render("{{ s[1] }} {{ s[-1] }} {{ s.length }} {{ l.length }} {{ o.get('a') }} {{ o.get('q', 5) }}", ctx),
            "\xC3\xA9 o 5 3 1 5");
  EXPECT_NE(render_error("{{ o[0] }}", ctx), "");
}

TEST(JinjaExpressions, Slicing) {
  const ojson ctx = {{"l", {1, 2, 3, 4}}, {"s", "a\xF0\x9F\x98\x80" "bc"}};
  EXPECT_EQ(render("{{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[::2] }} {{ l[-2:] }} {{ l[3:0:-1] }} {{ l[0:4:0] }}", ctx),
            "[2, 3, 4] [1, 2] [4, 3, 2, 1] [1, 3] [3, 4] [4, 3, 2] []");
  // Strings slice by code point.
  EXPECT_EQ(render("{{ s[1:3] }} {{ s[::-1] }}", ctx), "\xF0\x9F\x98\x80" "b cb\xF0\x9F\x98\x80" "a");
}

TEST(JinjaExpressions, TernaryAndSelect) {
  EXPECT_EQ(render("{{ 'y' if 1 else 'n' }} {{ 'a' if 0 else 'b' if 1 else 'c' }} [{{ 'x' if false }}]"), "y b []");
}

TEST(JinjaStatements, ForLoop) {
  EXPECT_EQ(render("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}"
                   "{{ loop.length }}{{ loop.revindex }}[{{ loop.previtem }}{{ loop.nextitem }}] {% endfor %}"),
            "10truefalse33[b] 21falsefalse32[ac] 32falsetrue31[b] ");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }} {% endfor %}"), "2/2 4/2 ");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2} | items %}{{ k }}={{ v }};{% endfor %}"), "a=1;b=2;");
  EXPECT_EQ(render("{% for k in {'b': 1, 'a': 2} %}{{ k }}{% endfor %}"), "ba");
  EXPECT_NE(render_error("{% for c in 'abc' %}{{ c }}{% endfor %}"), "");
}

TEST(JinjaStatements, BreakAndContinueDropTheIterationOutput) {
  // An iteration that continues or breaks loses what it printed (the reference renders each
  // iteration into its own buffer).
  EXPECT_EQ(render("{% for i in range(5) %}a{{ i }}{% if i is odd %}{% continue %}{% endif %}b{% if i == 2 %}{% break %}{% endif %} {% endfor %}"),
            "a0b ");
  // When every iteration continues, the else block runs.
  EXPECT_EQ(render("{% for i in [1, 2] %}{% continue %}{% else %}else{% endfor %}"), "else");
  EXPECT_NE(render_error("{% break %}"), "");
}

TEST(JinjaStatements, SetAndScopes) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}"), "21");
  EXPECT_EQ(render("{% if true %}{% set x = 'if' %}{% endif %}{{ x }}"), "if");
  EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"), "6");
  EXPECT_EQ(render("{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t | length }}"), "122");
  EXPECT_EQ(render("{% set blk %}x{{ 1 + 1 }}{% endset %}[{{ blk }}]"), "[x2]");
  EXPECT_NE(render_error("{% set d = {} %}{% set d.x = 1 %}"), "");
}

TEST(JinjaStatements, Macros) {
  const char* greet = "{% macro g(name, greeting='Hello') %}{{ greeting }} {{ name }}{% endmacro %}";
  EXPECT_EQ(render(std::string(greet) + "{{ g('Ann') }}|{{ g('Bo', 'Hi') }}|{{ g(greeting='Yo', name='Cy') }}|{{ g() }}"),
            "Hello Ann|Hi Bo|Yo Cy|Hello ");
  EXPECT_EQ(render("{% macro k(a) %}{{ a }}{{ kwargs }}{{ varargs }}{% endmacro %}{{ k(1, 2, b=3) }}"), "1{\"b\": 3}[2]");
  EXPECT_EQ(render("{% macro f(n) %}{% if n <= 1 %}1{% else %}{{ n * (f(n - 1) | int) }}{% endif %}{% endmacro %}{{ f(5) }}"), "120");
  EXPECT_EQ(render("{% macro w(t) %}<{{ t }}>{{ caller() }}</{{ t }}>{% endmacro %}{% call w('b') %}hi{% endcall %}"), "<b>hi</b>");
  EXPECT_EQ(render("{% macro e(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(v) e([1, 2]) %}[{{ v }}]{% endcall %}"),
            "[1][2]");
  // Defaults may refer to earlier parameters; macros see their caller's variables.
  EXPECT_EQ(render("{% set outer = 'O' %}{% macro d(a, b=a * 2) %}{{ a }}{{ b }}{{ outer }}{% endmacro %}{{ d(3) }}"), "36O");
  EXPECT_NE(render_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}"), "");
  EXPECT_NE(render_error("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}"), "");
}

TEST(JinjaStatements, FilterBlock) {
  EXPECT_EQ(render("{% filter upper %}ab{{ 'c' }}{% endfilter %}"), "ABC");
}

TEST(JinjaFilters, Strings) {
  EXPECT_EQ(render("[{{ '  a b  ' | trim }}] {{ 'ab' | upper }} {{ 'hello world-x_y' | title }} {{ 'aBC' | capitalize }}"),
            "[a b] AB Hello World-X_y ABC");
  EXPECT_EQ(render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a,b,c'.split(',', 1) }}"),
            "[\"a\", \"b\", \"\", \"c\"] [\"a\", \"b\"] [\"a\", \"b,c\"]");
  EXPECT_EQ(render("{{ 'aaa'.replace('a', 'b', 2) }} {{ 'abc'.replace('', '-') }} {{ 'a-b' | replace('-', '+') }}"), "bba -a-b-c- a+b");
  // strip() ignores its argument in the reference: it always strips whitespace.
  EXPECT_EQ(render("[{{ '\\n x \\n'.strip('\\n') }}] [{{ 'xxhixx'.strip('x') }}]"), "[x] [xxhixx]");
  EXPECT_EQ(render("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }}"), "true true");
  EXPECT_EQ(render("{{ 'line\\n\\nnext' | indent(2, true) }}"), "  line\n\n  next");
  EXPECT_EQ(render("{{ '12abc' | int }} {{ 'x' | int }} {{ '2.5e1z' | float }} {{ -2.5 | int }} {{ 'x' | int(7) }}"), "12 0 25.0 -3 7");
}

TEST(JinjaFilters, Lists) {
  const ojson ctx = {{"p", {{{"n", "b"}, {"a", 2}}, {{"n", "A"}, {"a", 1}, {"on", true}}}}};
  EXPECT_EQ(render("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'a'] | sort }} {{ [1, 2] | reverse }} {{ [1, '1', 1] | unique }}"),
            "[1, 2, 3] [\"A\", \"a\", \"b\"] [2, 1] [1, \"1\"]");
  EXPECT_EQ(render("{{ [1, 2] | first }}{{ [1, 2] | last }}{{ [1, 2] | length }} {{ ['a', 1, none] | join('-') }}"), "122 a-1-");
  EXPECT_EQ(render("{{ p | map(attribute='n') | join }} {{ p | selectattr('on') | map(attribute='n') | list }} "
                   "{{ p | rejectattr('on') | length }} {{ p | sort(attribute='a') | map(attribute='n') | join }}",
                   ctx),
            "bA [\"A\"] 1 Ab");
  EXPECT_EQ(render("{{ p | selectattr('n', 'equalto', 'A') | map(attribute='a') | first }}", ctx), "1");
  EXPECT_EQ(render("{{ {'b': 1, 'a': 2} | dictsort }} {{ {'b': 1, 'a': 2} | items | length }}"), "[[\"a\", 2], [\"b\", 1]] 2");
  EXPECT_EQ(render("{{ nothing | default('d') }} {{ '' | default('d', true) }} {{ 0 | default('d') }}"), "d d 0");
  // An empty list's first element is JavaScript's undefined: printing it fails, storing it gives undefined.
  EXPECT_NE(render_error("{{ [] | first }}"), "");
  EXPECT_EQ(render("{% set f = [] | first %}{{ f is defined }}"), "false");
}

TEST(JinjaFilters, ToJson) {
  const ojson ctx = {{"o", {{"b", 1}, {"a", {1, 2}}, {"e", ojson::object()}}}};
  EXPECT_EQ(render("{{ o | tojson }}", ctx), "{\"b\": 1, \"a\": [1, 2], \"e\": {}}");
  EXPECT_EQ(render("{{ o | tojson(indent=2) }}", ctx), "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": {}\n}");
  EXPECT_EQ(render("{{ o | tojson(sort_keys=true) }}", ctx), "{\"a\": [1, 2], \"b\": 1, \"e\": {}}");
  EXPECT_EQ(render("{{ o | tojson(separators=(',', ':')) }}", ctx), "{\"b\":1,\"a\":[1,2],\"e\":{}}");
  // JSON.stringify escaping: controls as \u00XX (lower case), non-ASCII kept unless ensure_ascii.
  EXPECT_EQ(render("{{ '\\x01\\n\"\\u00e9/' | tojson }} {{ '\\u00e9\\ud83d\\ude00' | tojson(ensure_ascii=true) }}"),
            "\"\\u0001\\n\\\"\xC3\xA9/\" \"\\u00e9\\ud83d\\ude00\"");
  EXPECT_EQ(render("{{ [1.0, 1.5, nothing, none, true] | tojson }}"), "[1, 1.5, null, null, true]");
  // Object keys keep JavaScript property order: integer-like keys first.
  EXPECT_EQ(render("{{ o | tojson }}", {{"o", {{"b", 1}, {"10", 2}, {"2", 3}}}}), "{\"2\": 3, \"10\": 2, \"b\": 1}");
}

TEST(JinjaTests, TypeTests) {
  const ojson ctx = {{"s", "x"}, {"i", 3}, {"f", 1.5}, {"l", {1}}, {"o", {{"a", 1}}}, {"n", nullptr}};
  EXPECT_EQ(render("{{ s is string }}{{ i is integer }}{{ f is number }}{{ f is integer }}{{ l is iterable }}{{ o is mapping }}"
                   "{{ l is sequence }}{{ n is none }}{{ n is defined }}{{ x is undefined }}{{ true is boolean }}",
                   ctx),
            "truetruetruefalsetruetruetruetruetruetruetrue");
  EXPECT_EQ(render("{{ 3 is odd }}{{ 4 is even }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ i is not none }}", ctx), "truetruetruetruetrue");
  EXPECT_NE(render_error("{{ 1.5 is odd }}"), "");
  EXPECT_NE(render_error("{{ 1 is frobnicated }}"), "");
}

TEST(JinjaUnicode, CaseMappingFollowsJavaScript) {
  EXPECT_EQ(render("{{ 'stra\xC3\x9F" "e' | upper }}"), "STRASSE");        // ß -> SS
  EXPECT_EQ(render("{{ '\xC4\xB0' | lower }}"), "i\xCC\x87");            // İ -> i + combining dot
  EXPECT_EQ(render("{{ '\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3' | lower }}"),  // ΟΔΟΣ -> οδος (final sigma)
            "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82");
  EXPECT_EQ(render("{{ '\xCE\xA3' | lower }}"), "\xCF\x83");               // lone Σ -> σ
  EXPECT_EQ(render("{{ '\xC3\xA9lan' | capitalize }} {{ '\xC3\xA9t\xC3\xA9' | title }}"), "\xC3\x89lan \xC3\xA9T\xC3\xA9");
}

TEST(JinjaUnicode, LengthsCountUtf16Units) {
  EXPECT_EQ(render("{{ '\xF0\x9F\x98\x80' | length }} {{ 'a\xC3\xA9' | length }}"), "2 2");
  // Indexing into an astral character yields half a surrogate pair; output turns it into U+FFFD.
  EXPECT_EQ(render("{{ '\xF0\x9F\x98\x80'[0] }}"), "\xEF\xBF\xBD");
}

TEST(JinjaGlobals, RangeNamespaceStrftime) {
  EXPECT_EQ(render("{{ range(3) }} {{ range(1, 4) }} {{ range(5, 0, -2) }}"), "[0, 1, 2] [1, 2, 3] [5, 3, 1]");
  EXPECT_EQ(render("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }} {{ ns }}"), "12 {\"a\": 1, \"b\": 2}");
  RenderSettings settings;
  settings.now = 1700000000;  // 2023-11-14 22:13:20 UTC
  std::tm tm{};
  const std::time_t t = *settings.now;
  localtime_r(&t, &tm);
  char expected[64];
  std::strftime(expected, sizeof expected, "%Y-%m-%d %H:%M %% %A", &tm);  // %A is kept verbatim
  std::string want = expected;
  want.replace(want.rfind(' ') + 1, std::string::npos, "%A");
  EXPECT_EQ(testing::render("{{ strftime_now('%Y-%m-%d %H:%M %% %A') }}", ojson::object(), false, settings), want);
}

TEST(JinjaContext, GlobalsCannotBeRedeclared) {
  // The reference refuses context variables that collide with its globals.
  EXPECT_NE(render_error("x", {{"range", 1}}), "");
  EXPECT_NE(render_error("x", {{"true", 1}}), "");
  // Templates may assign over them.
  EXPECT_EQ(render("{% set true = 'T' %}{{ true }}"), "T");
}

}  // namespace
}  // namespace hearth::chat::jinja
