<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>AppSettings</name>
    <message>
        <source>System language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU (reference)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Vulkan GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>FPGA (simulated)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>FPGA board (plugin)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <source>New chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New text</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChatSettingsDialog</name>
    <message>
        <source>Chat settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Prompt template</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plain transcript (User / Assistant)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Raw text continuation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Custom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optional text placed before the conversation, e.g. who the assistant is</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Preset</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User turn</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assistant turn</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop strings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{text} and {system} are replaced by the message; \n is a new line. Base models continue the transcript, so the reply ends at the first stop string (separate several with &quot; | &quot;).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New random seed for every reply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seed</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>The reply failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Template, system text and sampling for this conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Try again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download a model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write a message — Enter sends, Shift+Enter starts a new line</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a conversation&lt;/h2&gt;&lt;p&gt;Type a message below. The model continues a plain transcript (&quot;User: …\nAssistant:&quot;); change the template and sampling in &lt;b&gt;Chat settings&lt;/b&gt;.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The other model could not be loaded; still using %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The model could not be loaded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1

Choose another model folder (it needs config.json, model.safetensors and tokenizer.model), or fix the files and try again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a folder with a MatMul-free model (config.json, model.safetensors and tokenizer.model), or download one on the Models page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the opening (or more text) — Enter lets the model continue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Continue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Once upon a time, in a village at the edge of a great forest,</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The little robot woke up and saw that the sun</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lily found a small red box under her bed. When she opened it,</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Every night, the old cat sat by the window and</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a story&lt;/h2&gt;&lt;p&gt;The built-in model is a small storyteller: write the opening of a story and it continues it. Try one of these:&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;Write an opening&lt;/h2&gt;&lt;p&gt;Base models continue text: write the beginning below and the model continues it in place, with this conversation&apos;s sampling settings.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Send a first message: settings belong to a conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1

This model has no usable tokenizer (tokenizer.model), so it cannot chat. Add the tokenizer to its folder, or choose another model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1

The model is not there any more. Choose a model folder (config.json, model.safetensors and tokenizer.model) or download one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chat settings belong to a conversation: send a first message, then change them.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CodeBlockView</name>
    <message>
        <source>Copied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConversationSidebar</name>
    <message>
        <source>New chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import a conversation from JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search all messages (Ctrl+F)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Undo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Conversation deleted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No messages contain “%1”</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rename</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export as Markdown…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export as JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export as Markdown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import a conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is not valid JSON: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ConversationStore</name>
    <message>
        <source>Cannot open the conversation database %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The conversation database was written by a newer MMfree Studio (schema %1, this version knows %2).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Upgrading the conversation database to version %1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This file is not an MMfree Studio conversation (missing &quot;format&quot;: &quot;mmfree-conversation&quot;).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This conversation was exported by a newer MMfree Studio (format version %1).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The conversation has no &quot;messages&quot; list.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Message %1 has an unknown role &quot;%2&quot;.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Imported conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving the imported conversation failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DashboardPage</name>
    <message>
        <source>Dashboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the last</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>1 minute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>2 minutes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>5 minutes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>10 minutes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokens / s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>First token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Power</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Energy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Throughput (tokens/s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Per-token latency (ms)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory (MiB)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Power (W)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tokens/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>per token</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>p50</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>p95</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>process RSS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GPU memory used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (modeled)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: not available — %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Power (W) — no sensor available</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Idle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · backend %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n token(s)</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>p95 %1 ms · last %2 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>last reply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>after the first reply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>peak %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · GPU %1 / %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>modeled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>measured</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>n/a</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no power sensor available</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 tokens per joule</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>after a reply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>needs a power sensor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export series as CSV</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export view as PNG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not write %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>device memory used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>norm + quant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BitLinear (fused)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BitLinear</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MLGRU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>lm_head</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GPU timestamps</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CPU timers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time per stage per token (µs)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time per stage per token (µs) — %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last token: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Per-stage times appear while a reply streams, on backends that measure them.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The fused decode kernels run norm, quantization and the MLGRU inside the BitLinear dispatches; their time is counted there.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device memory (VK_EXT_memory_budget): %1 used / %2 budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Device memory used / budget: not available on this device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · device %1 / %2 budget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Streams and API traffic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>chat streams</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API requests/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API in flight</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Generating: %n stream(s)</source>
        <translation>
            <numerusform>Generating: %n stream</numerusform>
            <numerusform>Generating: %n streams</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>all %n streams · per stream: see latency</source>
        <translation>
            <numerusform>all %n streams · per stream: see latency</numerusform>
            <numerusform>all %n streams · per stream: see latency</numerusform>
        </translation>
    </message>
    <message>
        <source>last reply: %1 tokens/s</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>EngineService</name>
    <message>
        <source>No model is loaded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot write %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Import conversation…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export as &amp;Markdown…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export as &amp;JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;model folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Search messages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S&amp;top reply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Regenerate reply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Re&amp;name conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Delete conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chat se&amp;ttings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About MMfree Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About MMfree Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;MMfree Studio %1&lt;/h3&gt;&lt;p&gt;Chat with MatMul-free language models on your own computer.&lt;/p&gt;&lt;p&gt;Apache License 2.0&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open model folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reload model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Manage models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MMfree Studio</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>First token %1 ms · %2 tokens/s · %3 tokens · %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>no backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model failed to load</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1
Backend: %2 — %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New &amp;text (completion)</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>API %1 · %n request(s)</source>
        <translation>
            <numerusform>API %1 · %n request</numerusform>
            <numerusform>API %1 · %n requests</numerusform>
        </translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The API server could not start: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Packing %1 for instant switching…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not pack %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>Copied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>You</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy the message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edit and resend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Regenerate the reply</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save and resend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>writing…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelCatalog</name>
    <message>
        <source>available</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>downloading</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>paused</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>installed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>broken</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Demo model (built in)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>built in</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>imported from %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 no longer exists (moved or deleted?)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>downloading to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>downloaded to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>partly downloaded to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The download stopped at %1 of %2; resume to continue.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hugging Face cache (%1), used in place</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 on disk</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 download</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>≈ %1 download</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>size unknown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>memory: not known yet</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RAM %1 · GPU %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&quot;%1&quot; is not a repository id; use the form owner/name, e.g. ridger/MMfreeLM-370M</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This is a &quot;%1&quot; model, not a MatMul-free one; the engine cannot run it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is not in the library</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is already on this computer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is already installed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The built-in demo model is part of the application and cannot be deleted.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removed %1 from the library; its files in %2 were left in place.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deleted %1 partly: %2 freed, %3 could not be removed from %4.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deleted %1: %2 freed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deleted %1 from the Hugging Face cache: %2 freed.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removed %1 from the library.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>waiting to retry</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelSwitchBar</name>
    <message>
        <source>This conversation ran on %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This conversation ran on %1; %2 is loaded now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Switch to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keep %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>current</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <source>in use</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is downloaded and verified. Choose “Use this model” to chat with it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was downloaded but does not check out: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download of %1 stopped: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 was not added; these files have problems:
%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Added %1, with notes:
%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No MatMul-free models matched.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n model(s) on the hub — double-click one to add it:</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>%1   ·   %2 downloads   ·   %3 likes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Now chatting with %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not load %1: %2
%3 is still running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not load %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search the Hugging Face Hub for MatMul-free (hgrn_bit) models</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>owner/name, e.g. ridger/MMfreeLM-2.7B</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Add</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import folder…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Download</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pause</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Resume</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use this model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Current model: %1 — %2 on %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading %1 …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a model on the left.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model has no usable tokenizer, so it cannot chat.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This model is running now.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Switch to another model before deleting this one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>State: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Memory on CPU: %1 · on GPU: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(ternary weights %1 at 2 bits each, embeddings %2 in fp32, state %3 per conversation)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Searching the hub …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Checking %1 …</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import a model folder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Import a packed model file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Packed models (*.gguf);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 is running; switch to another model before deleting it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete %1 and free %2 of disk space?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove %1 from the library? Its files stay where they are.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Delete model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removed the packed copy of %1 (%2 freed); the next use packs it again.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remove packed copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Packed copy for instant switching: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not packed yet: the first use packs it, later switches load the pack.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <source>Preferences</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Automatic (GPU when one works, else CPU)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (unavailable: %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Compute backend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Local API server (OpenAI-compatible)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Port</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This computer only (127.0.0.1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All network interfaces (other computers; needs the API key)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Listen on</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>none (loopback only)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>API key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>One origin per line, e.g. http://localhost:3000 (empty: no browser access)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allowed CORS origins</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Serves the loaded model at http://%1:%2/v1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Off</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Running now at %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Last start failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>MMfree Studio</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
