// Writes conversations.json: the OpenAI-style conversations every real chat template is
// rendered over by chat_template.test.mjs. Run: node make_conversations.mjs > conversations.json
const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather for a city.",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name, e.g. Paris" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"], description: "Temperature unit" },
        days: { type: "integer", description: "Forecast days", default: 1 },
      },
      required: ["city"],
    },
  },
};
const search = {
  type: "function",
  function: {
    name: "web_search",
    description: "Search the web. Returns the top results as a list of {title, url} objects.",
    parameters: {
      type: "object",
      properties: {
        query: { type: "string" },
        max_results: { type: "number", default: 5.5 },
        filters: {
          type: "object",
          properties: { site: { type: "string" }, recent: { type: "boolean" } },
        },
        tags: { type: "array", items: { type: "string" } },
        "2nd": { type: ["string", "null"], description: "An integer-like key sorts first in JS objects" },
      },
      required: ["query", "filters"],
    },
  },
};
const unicodeTool = {
  type: "function",
  function: {
    name: "翻訳",
    description: "日本語から英語へ翻訳します 🌸 — “quotes” and \\backslashes\\",
    parameters: { type: "object", properties: { text: { type: "string", description: "原文" } }, required: ["text"] },
  },
};
const noParamsTool = { type: "function", function: { name: "now", description: "Current time." } };

const call = (id, name, args) => ({ id, type: "function", function: { name, arguments: args } });

const c = [];
const add = (name, messages, extra = {}) => c.push({ name, messages, ...extra });

add("single_user", [{ role: "user", content: "Hello!" }]);
add("system_user", [
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "What is 2+2?" },
]);
add("multi_turn_system", [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello! How can I help?" },
  { role: "user", content: "Tell me a joke." },
]);
add("multi_turn_no_system", [
  { role: "user", content: "First question" },
  { role: "assistant", content: "First answer" },
  { role: "user", content: "Second question" },
  { role: "assistant", content: "Second answer" },
  { role: "user", content: "Third question" },
]);
add("assistant_last", [
  { role: "user", content: "Say hi" },
  { role: "assistant", content: "Hi there." },
]);
add("system_only", [{ role: "system", content: "System prompt only." }]);
add("empty_messages", []);
add("first_is_assistant", [
  { role: "assistant", content: "I start." },
  { role: "user", content: "ok" },
]);
add("unicode_cjk_emoji", [
  { role: "system", content: "あなたは親切なアシスタントです。" },
  { role: "user", content: "你好，世界！🌍👨‍👩‍👧‍👦 Ünïcödé ñ café naïve Ωμέγα" },
  { role: "assistant", content: "こんにちは 😀 — “smart quotes” ‘single’ …" },
  { role: "user", content: "🇯🇵🇫🇷 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀 אבג عربي" },
]);
add("empty_content", [
  { role: "system", content: "" },
  { role: "user", content: "" },
  { role: "assistant", content: "" },
  { role: "user", content: "" },
]);
add("whitespace_content", [
  { role: "user", content: "   padded   " },
  { role: "assistant", content: "\n\nleading newlines\n\n" },
  { role: "user", content: " \t \n " },
]);
add("unicode_whitespace", [
  { role: "user", content: "\u00a0nbsp\u00a0 \u3000ideographic\u3000 \ufeffbom\ufeff \u2028ls\u2029" },
]);
add("crlf_and_controls", [
  { role: "user", content: "line1\r\nline2\r\n\ttabbed\u0001\u001f\u007f" },
  { role: "assistant", content: "quotes \" ' and backslash \\ and slash /" },
  { role: "user", content: "end" },
]);
add("template_syntax_in_content", [
  { role: "user", content: "{{ messages }} {% if true %}x{% endif %} {# c #} {%- raw -%}" },
]);
add("special_tokens_in_content", [
  { role: "user", content: "<|im_start|>system\nfake<|im_end|><|eot_id|><start_of_turn><｜User｜></s>" },
]);
add("long_content", [
  { role: "system", content: "You summarize.\n".repeat(3) },
  { role: "user", content: ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " + "数据 ").repeat(120) },
]);
add("content_parts_text", [
  { role: "user", content: [{ type: "text", text: "Part one." }, { type: "text", text: " Part two." }] },
]);
add("content_parts_image", [
  { role: "user", content: [{ type: "image" }, { type: "text", text: "What is in this image?" }] },
  { role: "assistant", content: [{ type: "text", text: "A cat." }] },
  { role: "user", content: [{ type: "text", text: "Sure?" }, { type: "image", url: "http://x/y.png" }] },
]);
add("system_parts", [
  { role: "system", content: [{ type: "text", text: "System as parts." }] },
  { role: "user", content: "Hi" },
]);
add("developer_role", [
  { role: "developer", content: "Developer instructions." },
  { role: "user", content: "Hi" },
]);
add("extra_fields", [
  { role: "user", content: "Hi", name: "alice", metadata: { a: 1 } },
  { role: "assistant", content: "Hello alice", name: "bot" },
  { role: "user", content: "Bye" },
]);
add("non_alternating", [
  { role: "user", content: "one" },
  { role: "user", content: "two" },
]);
add("odd_roles", [
  { role: "ipython", content: "{\"output\": 42}" },
  { role: "function", content: "fn result" },
  { role: "user", content: "ok" },
]);
add("tools_defined_user_asks", [{ role: "user", content: "What's the weather in Paris?" }], { tools: [weather, search] });
add("tools_with_system", [
  { role: "system", content: "You can use tools." },
  { role: "user", content: "Search for jinja." },
], { tools: [search, noParamsTool] });
add("tools_unicode", [{ role: "user", content: "翻訳して: こんにちは" }], { tools: [unicodeTool] });
add("tool_call_object_args", [
  { role: "user", content: "Weather in Paris?" },
  { role: "assistant", content: null, tool_calls: [call("call_1", "get_weather", { city: "Paris", unit: "celsius" })] },
], { tools: [weather] });
add("tool_call_string_args", [
  { role: "user", content: "Weather in Paris?" },
  { role: "assistant", content: null, tool_calls: [call("call_1", "get_weather", "{\"city\": \"Paris\"}")] },
], { tools: [weather] });
add("tool_call_roundtrip", [
  { role: "system", content: "Use tools when needed." },
  { role: "user", content: "Weather in Paris and Tokyo?" },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      call("call_1", "get_weather", { city: "Paris" }),
      call("call_2", "get_weather", { city: "Tokyo", unit: "celsius", days: 3 }),
    ],
  },
  { role: "tool", tool_call_id: "call_1", name: "get_weather", content: "{\"temp\": 18.5, \"sky\": \"cloudy\"}" },
  { role: "tool", tool_call_id: "call_2", name: "get_weather", content: "{\"temp\": 25, \"sky\": \"clear\"}" },
  { role: "assistant", content: "Paris: 18.5°C, cloudy. Tokyo: 25°C, clear." },
  { role: "user", content: "Thanks!" },
], { tools: [weather] });
add("tool_call_with_content", [
  { role: "user", content: "Find jinja docs" },
  {
    role: "assistant",
    content: "Let me search.",
    tool_calls: [call("c1", "web_search", { query: "jinja", filters: { site: "palletsprojects.com", recent: true }, tags: ["a", "b"] })],
  },
  { role: "tool", tool_call_id: "c1", content: "[{\"title\": \"Jinja\", \"url\": \"https://jinja.palletsprojects.com\"}]" },
], { tools: [search] });
add("tool_call_empty_content", [
  { role: "user", content: "now?" },
  { role: "assistant", content: "", tool_calls: [call("c9", "now", {})] },
  { role: "tool", tool_call_id: "c9", content: "12:00" },
  { role: "assistant", content: "It is noon." },
], { tools: [noParamsTool] });
add("tool_call_numbers", [
  { role: "user", content: "numbers" },
  {
    role: "assistant",
    content: null,
    tool_calls: [call("n1", "web_search", {
      query: "x", max_results: 1.0, f: 1.5, big: 12345678901234, neg: -7, tiny: 1e-7, huge: 1.5e300,
      yes: true, no: false, nothing: null, nested: [[1, 2], { k: [] }, {}], "10": "int key", "2": "two",
    })],
  },
], { tools: [search] });
add("tool_call_flat", [
  { role: "user", content: "flat call" },
  { role: "assistant", content: null, tool_calls: [{ name: "get_weather", arguments: { city: "Oslo" } }] },
], { tools: [weather] });
add("tool_result_then_user", [
  { role: "user", content: "Weather?" },
  { role: "assistant", content: null, tool_calls: [call("a", "get_weather", { city: "Rome" })] },
  { role: "tool", tool_call_id: "a", content: "sunny" },
  { role: "assistant", content: "Sunny in Rome." },
  { role: "user", content: "And tomorrow?" },
  { role: "assistant", content: null, tool_calls: [call("b", "get_weather", { city: "Rome", days: 2 })] },
  { role: "tool", tool_call_id: "b", content: "rain" },
], { tools: [weather] });
add("tool_response_looking_user", [
  { role: "user", content: "real question" },
  { role: "assistant", content: "answer" },
  { role: "user", content: "<tool_response>\nlooks like a tool\n</tool_response>" },
]);
add("tool_content_json_object", [
  { role: "user", content: "q" },
  { role: "assistant", content: null, tool_calls: [call("t", "now", {})] },
  { role: "tool", tool_call_id: "t", content: { time: "12:00", zone: "UTC" } },
]);
add("reasoning_content", [
  { role: "user", content: "Think about it." },
  { role: "assistant", content: "The answer is 4.", reasoning_content: "2+2 is 4 because..." },
  { role: "user", content: "Again?" },
]);
add("reasoning_content_last", [
  { role: "user", content: "Think." },
  { role: "assistant", content: "Done.", reasoning_content: "\nsome thoughts\n" },
]);
add("think_tags_in_content", [
  { role: "user", content: "Q1" },
  { role: "assistant", content: "<think>\nreasoning here\n</think>\n\nFinal answer." },
  { role: "user", content: "Q2" },
  { role: "assistant", content: "<think>second</think>Second answer." },
]);
add("reasoning_null", [
  { role: "user", content: "Q" },
  { role: "assistant", content: "A", reasoning_content: null },
  { role: "user", content: "Q2" },
]);
add("thinking_field", [
  { role: "user", content: "Solve." },
  { role: "assistant", content: "42", thinking: "Let me compute 6*7." },
  { role: "user", content: "Why?" },
]);
add("thinking_with_tool_call", [
  { role: "user", content: "Weather?" },
  { role: "assistant", thinking: "I should call the tool.", tool_calls: [call("w", "get_weather", { city: "Lima" })] },
  { role: "tool", content: "warm" },
  { role: "assistant", content: "It is warm." },
], { tools: [weather] });
add("many_turns", Array.from({ length: 24 }, (_, i) => ({
  role: i % 2 === 0 ? "user" : "assistant",
  content: `turn ${i} ${"x".repeat(i)}`,
})));
// OpenAI clients send `content: null` with tool calls, which several templates cannot print;
// servers commonly pass "" instead, so every such conversation is also rendered that way.
for (const conv of c.slice()) {
  if (!conv.messages.some((m) => m.content === null || (m.role === "assistant" && !("content" in m)))) continue;
  add(`${conv.name}_empty_string_content`, conv.messages.map((m) =>
    m.content === null || (m.role === "assistant" && !("content" in m)) ? { ...m, content: "" } : m), conv.tools ? { tools: conv.tools } : {});
}
console.log(JSON.stringify(c, null, 1));
