<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AppSettings</name>
    <message>
        <source>System language</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CPU (reference)</source>
        <translation>CPU（参考实现）</translation>
    </message>
    <message>
        <source>Vulkan GPU</source>
        <translation>Vulkan GPU</translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation>CUDA GPU</translation>
    </message>
    <message>
        <source>FPGA (simulated)</source>
        <translation>FPGA（模拟）</translation>
    </message>
    <message>
        <source>FPGA board (plugin)</source>
        <translation>FPGA 板卡（插件）</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>New text</source>
        <translation>新文本</translation>
    </message>
</context>
<context>
    <name>ChatSettingsDialog</name>
    <message>
        <source>Chat settings</source>
        <translation>对话设置</translation>
    </message>
    <message>
        <source>Prompt template</source>
        <translation>提示模板</translation>
    </message>
    <message>
        <source>Plain transcript (User / Assistant)</source>
        <translation>纯文本对话记录（User / Assistant）</translation>
    </message>
    <message>
        <source>Raw text continuation</source>
        <translation>原始文本续写</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>Optional text placed before the conversation, e.g. who the assistant is</source>
        <translation>放在对话之前的可选文本，例如助手的身份</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>System text</source>
        <translation>系统文本</translation>
    </message>
    <message>
        <source>System format</source>
        <translation>系统格式</translation>
    </message>
    <message>
        <source>User turn</source>
        <translation>用户轮次</translation>
    </message>
    <message>
        <source>Assistant turn</source>
        <translation>助手轮次</translation>
    </message>
    <message>
        <source>Stop strings</source>
        <translation>停止字符串</translation>
    </message>
    <message>
        <source>{text} and {system} are replaced by the message; \n is a new line. Base models continue the transcript, so the reply ends at the first stop string (separate several with " | ").</source>
        <translation>{text} 和 {system} 会被替换为消息内容；\n 表示换行。基础模型会续写对话记录，因此回复在第一个停止字符串处结束（多个之间用 " | " 分隔）。</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>New random seed for every reply</source>
        <translation>每次回复使用新的随机种子</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation>Min-p</translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>最大词元数</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>种子</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>The reply failed: %1</source>
        <translation>回复失败：%1</translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation>对话设置</translation>
    </message>
    <message>
        <source>Template, system text and sampling for this conversation</source>
        <translation>此对话的模板、系统文本和采样参数</translation>
    </message>
    <message>
        <source>Choose a model folder…</source>
        <translation>选择模型文件夹…</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Download a model…</source>
        <translation>下载模型…</translation>
    </message>
    <message>
        <source>Write a message — Enter sends, Shift+Enter starts a new line</source>
        <translation>输入消息 — Enter 发送，Shift+Enter 换行</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>发送（Enter）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a conversation&lt;/h2&gt;&lt;p&gt;Type a message below. The model continues a plain transcript ("User: …\nAssistant:"); change the template and sampling in &lt;b&gt;Chat settings&lt;/b&gt;.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;开始对话&lt;/h2&gt;&lt;p&gt;在下方输入消息。模型会续写纯文本对话记录（"User: …\nAssistant:"）；可在&lt;b&gt;对话设置&lt;/b&gt;中修改模板和采样参数。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>The other model could not be loaded; still using %1</source>
        <translation>无法加载另一个模型；仍在使用 %1</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>The model could not be loaded</source>
        <translation>无法加载模型</translation>
    </message>
    <message>
        <source>%1

Choose another model folder (it needs config.json, model.safetensors and tokenizer.model), or fix the files and try again.</source>
        <translation>%1

请选择其他模型文件夹（需要 config.json、model.safetensors 和 tokenizer.model），或修复文件后重试。</translation>
    </message>
    <message>
        <source>No model yet</source>
        <translation>还没有模型</translation>
    </message>
    <message>
        <source>Choose a folder with a MatMul-free model (config.json, model.safetensors and tokenizer.model), or download one on the Models page.</source>
        <translation>选择包含 MatMul-free 模型的文件夹（config.json、model.safetensors 和 tokenizer.model），或在“模型”页面下载一个。</translation>
    </message>
    <message>
        <source>Write the opening (or more text) — Enter lets the model continue</source>
        <translation>写下开头（或更多文字）— 按 Enter 让模型续写</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>续写</translation>
    </message>
    <message>
        <source>Once upon a time, in a village at the edge of a great forest,</source>
        <translation>很久很久以前，在一片大森林边上的小村庄里，</translation>
    </message>
    <message>
        <source>The little robot woke up and saw that the sun</source>
        <translation>小机器人醒来，看见太阳</translation>
    </message>
    <message>
        <source>Lily found a small red box under her bed. When she opened it,</source>
        <translation>莉莉在床底下发现了一个红色的小盒子。她打开它时，</translation>
    </message>
    <message>
        <source>Every night, the old cat sat by the window and</source>
        <translation>每天晚上，老猫都坐在窗边，</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a story&lt;/h2&gt;&lt;p&gt;The built-in model is a small storyteller: write the opening of a story and it continues it. Try one of these:&lt;/p&gt;</source>
        <translation>&lt;h2&gt;开始一个故事&lt;/h2&gt;&lt;p&gt;内置模型是一个小小的讲故事者：写下故事的开头，它会接着写下去。试试这些：&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Write an opening&lt;/h2&gt;&lt;p&gt;Base models continue text: write the beginning below and the model continues it in place, with this conversation's sampling settings.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;写一个开头&lt;/h2&gt;&lt;p&gt;基础模型会续写文本：在下方写下开头，模型会按本对话的采样设置原地续写。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Send a first message: settings belong to a conversation</source>
        <translation>请先发送一条消息：设置属于某个对话</translation>
    </message>
    <message>
        <source>%1

This model has no usable tokenizer (tokenizer.model), so it cannot chat. Add the tokenizer to its folder, or choose another model.</source>
        <translation>%1

此模型没有可用的分词器（tokenizer.model），无法对话。请把分词器放进其文件夹，或选择其他模型。</translation>
    </message>
    <message>
        <source>%1

The model is not there any more. Choose a model folder (config.json, model.safetensors and tokenizer.model) or download one.</source>
        <translation>%1

模型已不在原处。请选择模型文件夹（config.json、model.safetensors 和 tokenizer.model）或下载一个。</translation>
    </message>
    <message>
        <source>Chat settings belong to a conversation: send a first message, then change them.</source>
        <translation>对话设置属于某个对话：请先发送一条消息，再修改设置。</translation>
    </message>
</context>
<context>
    <name>CodeBlockView</name>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>ConversationSidebar</name>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>开始新对话（Ctrl+N）</translation>
    </message>
    <message>
        <source>Import a conversation from JSON</source>
        <translation>从 JSON 导入对话</translation>
    </message>
    <message>
        <source>Search all messages (Ctrl+F)</source>
        <translation>搜索所有消息（Ctrl+F）</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Conversation deleted</source>
        <translation>对话已删除</translation>
    </message>
    <message>
        <source>No messages contain “%1”</source>
        <translation>没有消息包含“%1”</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Export as Markdown…</source>
        <translation>导出为 Markdown…</translation>
    </message>
    <message>
        <source>Export as JSON…</source>
        <translation>导出为 JSON…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Export as Markdown</source>
        <translation>导出为 Markdown</translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation>导出为 JSON</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Import a conversation</source>
        <translation>导入对话</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>导入失败</translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>无法读取 %1：%2</translation>
    </message>
    <message>
        <source>%1 is not valid JSON: %2</source>
        <translation>%1 不是有效的 JSON：%2</translation>
    </message>
</context>
<context>
    <name>ConversationStore</name>
    <message>
        <source>Cannot open the conversation database %1: %2</source>
        <translation>无法打开对话数据库 %1：%2</translation>
    </message>
    <message>
        <source>The conversation database was written by a newer MMfree Studio (schema %1, this version knows %2).</source>
        <translation>对话数据库由更新版本的 MMfree Studio 写入（架构 %1，此版本仅支持 %2）。</translation>
    </message>
    <message>
        <source>Upgrading the conversation database to version %1 failed: %2</source>
        <translation>将对话数据库升级到版本 %1 失败：%2</translation>
    </message>
    <message>
        <source>This file is not an MMfree Studio conversation (missing "format": "mmfree-conversation").</source>
        <translation>此文件不是 MMfree Studio 对话（缺少 "format": "mmfree-conversation"）。</translation>
    </message>
    <message>
        <source>This conversation was exported by a newer MMfree Studio (format version %1).</source>
        <translation>此对话由更新版本的 MMfree Studio 导出（格式版本 %1）。</translation>
    </message>
    <message>
        <source>The conversation has no "messages" list.</source>
        <translation>对话中没有 "messages" 列表。</translation>
    </message>
    <message>
        <source>Message %1 has an unknown role "%2".</source>
        <translation>第 %1 条消息的角色“%2”未知。</translation>
    </message>
    <message>
        <source>Imported conversation</source>
        <translation>导入的对话</translation>
    </message>
    <message>
        <source>Saving the imported conversation failed: %1</source>
        <translation>保存导入的对话失败：%1</translation>
    </message>
</context>
<context>
    <name>DashboardPage</name>
    <message>
        <source>Dashboard</source>
        <translation>仪表板</translation>
    </message>
    <message>
        <source>Show the last</source>
        <translation>显示最近</translation>
    </message>
    <message>
        <source>1 minute</source>
        <translation>1 分钟</translation>
    </message>
    <message>
        <source>2 minutes</source>
        <translation>2 分钟</translation>
    </message>
    <message>
        <source>5 minutes</source>
        <translation>5 分钟</translation>
    </message>
    <message>
        <source>10 minutes</source>
        <translation>10 分钟</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>导出 PNG…</translation>
    </message>
    <message>
        <source>Tokens / s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation>延迟 p50</translation>
    </message>
    <message>
        <source>First token</source>
        <translation>首个词元</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Power</source>
        <translation>功率</translation>
    </message>
    <message>
        <source>Energy</source>
        <translation>能耗</translation>
    </message>
    <message>
        <source>Throughput (tokens/s)</source>
        <translation>吞吐量（词元/秒）</translation>
    </message>
    <message>
        <source>Per-token latency (ms)</source>
        <translation>每词元延迟（ms）</translation>
    </message>
    <message>
        <source>Memory (MiB)</source>
        <translation>内存（MiB）</translation>
    </message>
    <message>
        <source>Power (W)</source>
        <translation>功率（W）</translation>
    </message>
    <message>
        <source>tokens/s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <source>per token</source>
        <translation>每词元</translation>
    </message>
    <message>
        <source>p50</source>
        <translation>p50</translation>
    </message>
    <message>
        <source>p95</source>
        <translation>p95</translation>
    </message>
    <message>
        <source>process RSS</source>
        <translation>进程 RSS</translation>
    </message>
    <message>
        <source>GPU memory used</source>
        <translation>已用 GPU 显存</translation>
    </message>
    <message>
        <source>%1 (modeled)</source>
        <translation>%1（估算）</translation>
    </message>
    <message>
        <source>%1: not available — %2</source>
        <translation>%1：不可用 — %2</translation>
    </message>
    <message>
        <source>Power (W) — no sensor available</source>
        <translation>功率（W）— 没有可用的传感器</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source> · backend %1</source>
        <translation> · 后端 %1</translation>
    </message>
    <message numerus="yes">
        <source>%n token(s)</source>
        <translation>
            <numerusform>%n 个词元</numerusform>
        </translation>
    </message>
    <message>
        <source>p95 %1 ms · last %2 ms</source>
        <translation>p95 %1 ms · 最近 %2 ms</translation>
    </message>
    <message>
        <source>last reply</source>
        <translation>上次回复</translation>
    </message>
    <message>
        <source>after the first reply</source>
        <translation>首次回复后显示</translation>
    </message>
    <message>
        <source>peak %1</source>
        <translation>峰值 %1</translation>
    </message>
    <message>
        <source> · GPU %1 / %2</source>
        <translation> · GPU %1 / %2</translation>
    </message>
    <message>
        <source>modeled</source>
        <translation>估算</translation>
    </message>
    <message>
        <source>measured</source>
        <translation>实测</translation>
    </message>
    <message>
        <source>n/a</source>
        <translation>无</translation>
    </message>
    <message>
        <source>no power sensor available</source>
        <translation>没有可用的功率传感器</translation>
    </message>
    <message>
        <source>%1 tokens per joule</source>
        <translation>每焦耳 %1 个词元</translation>
    </message>
    <message>
        <source>after a reply</source>
        <translation>回复后显示</translation>
    </message>
    <message>
        <source>needs a power sensor</source>
        <translation>需要功率传感器</translation>
    </message>
    <message>
        <source>Export series as CSV</source>
        <translation>将数据序列导出为 CSV</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>导出失败</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
    <message>
        <source>Export view as PNG</source>
        <translation>将视图导出为 PNG</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 图像 (*.png)</translation>
    </message>
    <message>
        <source>Could not write %1</source>
        <translation>无法写入 %1</translation>
    </message>
    <message>
        <source>device memory used</source>
        <translation>已用设备内存</translation>
    </message>
    <message>
        <source>norm + quant</source>
        <translation>归一化 + 量化</translation>
    </message>
    <message>
        <source>BitLinear (fused)</source>
        <translation>BitLinear（融合）</translation>
    </message>
    <message>
        <source>BitLinear</source>
        <translation>BitLinear</translation>
    </message>
    <message>
        <source>MLGRU</source>
        <translation>MLGRU</translation>
    </message>
    <message>
        <source>lm_head</source>
        <translation>lm_head</translation>
    </message>
    <message>
        <source>GPU timestamps</source>
        <translation>GPU 时间戳</translation>
    </message>
    <message>
        <source>CPU timers</source>
        <translation>CPU 计时器</translation>
    </message>
    <message>
        <source>%1 backend</source>
        <translation>%1 后端</translation>
    </message>
    <message>
        <source>Time per stage per token (µs)</source>
        <translation>每个词元各阶段耗时（µs）</translation>
    </message>
    <message>
        <source>Time per stage per token (µs) — %1</source>
        <translation>每个词元各阶段耗时（µs）— %1</translation>
    </message>
    <message>
        <source>Last token: %1</source>
        <translation>最后一个词元：%1</translation>
    </message>
    <message>
        <source>Per-stage times appear while a reply streams, on backends that measure them.</source>
        <translation>回复生成期间，支持计时的后端会在此显示各阶段耗时。</translation>
    </message>
    <message>
        <source>The fused decode kernels run norm, quantization and the MLGRU inside the BitLinear dispatches; their time is counted there.</source>
        <translation>融合解码内核在 BitLinear 调度中完成归一化、量化和 MLGRU，其耗时计入 BitLinear。</translation>
    </message>
    <message>
        <source>Device memory (VK_EXT_memory_budget): %1 used / %2 budget</source>
        <translation>设备内存（VK_EXT_memory_budget）：已用 %1 / 预算 %2</translation>
    </message>
    <message>
        <source>Device memory used / budget: not available on this device</source>
        <translation>设备内存用量 / 预算：此设备不提供</translation>
    </message>
    <message>
        <source> · device %1 / %2 budget</source>
        <translation> · 设备 %1 / 预算 %2</translation>
    </message>
    <message>
        <source>Streams and API traffic</source>
        <translation>流与 API 流量</translation>
    </message>
    <message>
        <source>chat streams</source>
        <translation>对话流</translation>
    </message>
    <message>
        <source>API requests/s</source>
        <translation>API 请求/秒</translation>
    </message>
    <message>
        <source>API in flight</source>
        <translation>进行中的 API 请求</translation>
    </message>
    <message numerus="yes">
        <source>Generating: %n stream(s)</source>
        <translation>
            <numerusform>生成中：%n 个流</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>all %n streams · per stream: see latency</source>
        <translation>
            <numerusform>全部 %n 个流 · 单流：见延迟</numerusform>
        </translation>
    </message>
    <message>
        <source>last reply: %1 tokens/s</source>
        <translation>上次回复：%1 词元/秒</translation>
    </message>
</context>
<context>
    <name>EngineService</name>
    <message>
        <source>No model is loaded.</source>
        <translation>未加载模型。</translation>
    </message>
    <message>
        <source>cannot write %1</source>
        <translation>无法写入 %1</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Chat</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>仪表板</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>新对话(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Import conversation…</source>
        <translation>导入对话(&amp;I)…</translation>
    </message>
    <message>
        <source>Export as &amp;Markdown…</source>
        <translation>导出为 Markdown(&amp;M)…</translation>
    </message>
    <message>
        <source>Export as &amp;JSON…</source>
        <translation>导出为 JSON(&amp;J)…</translation>
    </message>
    <message>
        <source>Open &amp;model folder…</source>
        <translation>打开模型文件夹(&amp;M)…</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>首选项(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Search messages</source>
        <translation>搜索消息(&amp;S)</translation>
    </message>
    <message>
        <source>S&amp;top reply</source>
        <translation>停止回复(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Regenerate reply</source>
        <translation>重新生成回复(&amp;R)</translation>
    </message>
    <message>
        <source>Re&amp;name conversation</source>
        <translation>重命名对话(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Delete conversation</source>
        <translation>删除对话(&amp;D)</translation>
    </message>
    <message>
        <source>Chat se&amp;ttings…</source>
        <translation>对话设置(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation>仪表板(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;About MMfree Studio</source>
        <translation>关于 MMfree Studio(&amp;A)</translation>
    </message>
    <message>
        <source>About MMfree Studio</source>
        <translation>关于 MMfree Studio</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MMfree Studio %1&lt;/h3&gt;&lt;p&gt;Chat with MatMul-free language models on your own computer.&lt;/p&gt;&lt;p&gt;Apache License 2.0&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MMfree Studio %1&lt;/h3&gt;&lt;p&gt;在您自己的电脑上与 MatMul-free 语言模型对话。&lt;/p&gt;&lt;p&gt;Apache 许可证 2.0&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Open model folder…</source>
        <translation>打开模型文件夹…</translation>
    </message>
    <message>
        <source>Reload model</source>
        <translation>重新加载模型</translation>
    </message>
    <message>
        <source>Manage models</source>
        <translation>管理模型</translation>
    </message>
    <message>
        <source>MMfree Studio</source>
        <translation>MMfree Studio</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>First token %1 ms · %2 tokens/s · %3 tokens · %4</source>
        <translation>首个词元 %1 毫秒 · %2 词元/秒 · %3 个词元 · %4</translation>
    </message>
    <message>
        <source>no backend</source>
        <translation>无后端</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>Model failed to load</source>
        <translation>模型加载失败</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>没有模型</translation>
    </message>
    <message>
        <source>%1
Backend: %2 — %3</source>
        <translation>%1
后端：%2 — %3</translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation>选择模型文件夹</translation>
    </message>
    <message>
        <source>New &amp;text (completion)</source>
        <translation>新建文本（续写）(&amp;T)</translation>
    </message>
    <message numerus="yes">
        <source>API %1 · %n request(s)</source>
        <translation>
            <numerusform>API %1 · %n 个请求</numerusform>
        </translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation>本地 API 服务器</translation>
    </message>
    <message>
        <source>The API server could not start: %1</source>
        <translation>API 服务器无法启动：%1</translation>
    </message>
    <message>
        <source>Packing %1 for instant switching…</source>
        <translation>正在打包 %1，以便即时切换…</translation>
    </message>
    <message>
        <source>Could not pack %1: %2</source>
        <translation>无法打包 %1：%2</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>Copied</source>
        <translation>已复制</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Copy the message</source>
        <translation>复制消息</translation>
    </message>
    <message>
        <source>Edit and resend</source>
        <translation>编辑并重新发送</translation>
    </message>
    <message>
        <source>Regenerate the reply</source>
        <translation>重新生成回复</translation>
    </message>
    <message>
        <source>Save and resend</source>
        <translation>保存并重新发送</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>writing…</source>
        <translation>正在写…</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
</context>
<context>
    <name>ModelCatalog</name>
    <message>
        <source>available</source>
        <translation>可下载</translation>
    </message>
    <message>
        <source>downloading</source>
        <translation>下载中</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>installed</source>
        <translation>已安装</translation>
    </message>
    <message>
        <source>broken</source>
        <translation>已损坏</translation>
    </message>
    <message>
        <source>Demo model (built in)</source>
        <translation>演示模型（内置）</translation>
    </message>
    <message>
        <source>built in</source>
        <translation>内置</translation>
    </message>
    <message>
        <source>imported from %1</source>
        <translation>从 %1 导入</translation>
    </message>
    <message>
        <source>%1 no longer exists (moved or deleted?)</source>
        <translation>%1 已不存在（被移动或删除了？）</translation>
    </message>
    <message>
        <source>downloading to %1</source>
        <translation>正在下载到 %1</translation>
    </message>
    <message>
        <source>downloaded to %1</source>
        <translation>已下载到 %1</translation>
    </message>
    <message>
        <source>partly downloaded to %1</source>
        <translation>已部分下载到 %1</translation>
    </message>
    <message>
        <source>The download stopped at %1 of %2; resume to continue.</source>
        <translation>下载在 %1 / %2 处停止；点击“继续”可接着下载。</translation>
    </message>
    <message>
        <source>Hugging Face cache (%1), used in place</source>
        <translation>Hugging Face 缓存（%1），直接使用</translation>
    </message>
    <message>
        <source>%1 on disk</source>
        <translation>占用磁盘 %1</translation>
    </message>
    <message>
        <source>%1 download</source>
        <translation>下载大小 %1</translation>
    </message>
    <message>
        <source>≈ %1 download</source>
        <translation>下载大小 ≈ %1</translation>
    </message>
    <message>
        <source>size unknown</source>
        <translation>大小未知</translation>
    </message>
    <message>
        <source>memory: not known yet</source>
        <translation>内存：尚不清楚</translation>
    </message>
    <message>
        <source>RAM %1 · GPU %2</source>
        <translation>内存 %1 · GPU %2</translation>
    </message>
    <message>
        <source>"%1" is not a repository id; use the form owner/name, e.g. ridger/MMfreeLM-370M</source>
        <translation>“%1”不是仓库 ID；请使用 owner/name 格式，例如 ridger/MMfreeLM-370M</translation>
    </message>
    <message>
        <source>This is a "%1" model, not a MatMul-free one; the engine cannot run it.</source>
        <translation>这是“%1”模型，不是 MatMul-free 模型；引擎无法运行它。</translation>
    </message>
    <message>
        <source>%1 is not in the library</source>
        <translation>%1 不在模型库中</translation>
    </message>
    <message>
        <source>%1 is already on this computer</source>
        <translation>%1 已在这台电脑上</translation>
    </message>
    <message>
        <source>%1 is already installed</source>
        <translation>%1 已安装</translation>
    </message>
    <message>
        <source>The built-in demo model is part of the application and cannot be deleted.</source>
        <translation>内置演示模型是应用程序的一部分，无法删除。</translation>
    </message>
    <message>
        <source>Removed %1 from the library; its files in %2 were left in place.</source>
        <translation>已从模型库中移除 %1；其在 %2 中的文件保持不变。</translation>
    </message>
    <message>
        <source>Deleted %1 partly: %2 freed, %3 could not be removed from %4.</source>
        <translation>已部分删除 %1：释放了 %2，%4 中有 %3 无法删除。</translation>
    </message>
    <message>
        <source>Deleted %1: %2 freed.</source>
        <translation>已删除 %1：释放了 %2。</translation>
    </message>
    <message>
        <source>Deleted %1 from the Hugging Face cache: %2 freed.</source>
        <translation>已从 Hugging Face 缓存中删除 %1：释放了 %2。</translation>
    </message>
    <message>
        <source>Removed %1 from the library.</source>
        <translation>已从模型库中移除 %1。</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>waiting to retry</source>
        <translation>等待重试</translation>
    </message>
</context>
<context>
    <name>ModelSwitchBar</name>
    <message>
        <source>This conversation ran on %1.</source>
        <translation>此对话使用的是 %1。</translation>
    </message>
    <message>
        <source>This conversation ran on %1; %2 is loaded now.</source>
        <translation>此对话使用的是 %1；当前已加载 %2。</translation>
    </message>
    <message>
        <source>Switch to %1</source>
        <translation>切换到 %1</translation>
    </message>
    <message>
        <source>Keep %1</source>
        <translation>保留 %1</translation>
    </message>
    <message>
        <source>current</source>
        <translation>当前模型</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <source>in use</source>
        <translation>使用中</translation>
    </message>
    <message>
        <source>%1 is downloaded and verified. Choose “Use this model” to chat with it.</source>
        <translation>%1 已下载并通过校验。选择“使用此模型”即可与其对话。</translation>
    </message>
    <message>
        <source>%1 was downloaded but does not check out: %2</source>
        <translation>%1 已下载，但未通过校验：%2</translation>
    </message>
    <message>
        <source>Download of %1 stopped: %2</source>
        <translation>%1 的下载已停止：%2</translation>
    </message>
    <message>
        <source>%1 was not added; these files have problems:
%2</source>
        <translation>未添加 %1；以下文件有问题：
%2</translation>
    </message>
    <message>
        <source>Added %1.</source>
        <translation>已添加 %1。</translation>
    </message>
    <message>
        <source>Added %1, with notes:
%2</source>
        <translation>已添加 %1，附注：
%2</translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>搜索失败：%1</translation>
    </message>
    <message>
        <source>No MatMul-free models matched.</source>
        <translation>没有匹配的 MatMul-free 模型。</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s) on the hub — double-click one to add it:</source>
        <translation>
            <numerusform>Hub 上有 %n 个模型 — 双击即可添加：</numerusform>
        </translation>
    </message>
    <message>
        <source>%1   ·   %2 downloads   ·   %3 likes</source>
        <translation>%1   ·   下载 %2 次   ·   %3 个赞</translation>
    </message>
    <message>
        <source>Now chatting with %1.</source>
        <translation>现在正与 %1 对话。</translation>
    </message>
    <message>
        <source>Could not load %1: %2
%3 is still running.</source>
        <translation>无法加载 %1：%2
%3 仍在运行。</translation>
    </message>
    <message>
        <source>Could not load %1: %2</source>
        <translation>无法加载 %1：%2</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Search the Hugging Face Hub for MatMul-free (hgrn_bit) models</source>
        <translation>在 Hugging Face Hub 上搜索 MatMul-free（hgrn_bit）模型</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>owner/name, e.g. ridger/MMfreeLM-2.7B</source>
        <translation>owner/name，例如 ridger/MMfreeLM-2.7B</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Import folder…</source>
        <translation>导入文件夹…</translation>
    </message>
    <message>
        <source>Import file…</source>
        <translation>导入文件…</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Use this model</source>
        <translation>使用此模型</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>未加载模型。</translation>
    </message>
    <message>
        <source>Current model: %1 — %2 on %3</source>
        <translation>当前模型：%1 — %2，运行于 %3</translation>
    </message>
    <message>
        <source>Loading %1 …</source>
        <translation>正在加载 %1 …</translation>
    </message>
    <message>
        <source>Choose a model on the left.</source>
        <translation>请在左侧选择一个模型。</translation>
    </message>
    <message>
        <source>This model has no usable tokenizer, so it cannot chat.</source>
        <translation>此模型没有可用的分词器，因此无法对话。</translation>
    </message>
    <message>
        <source>This model is running now.</source>
        <translation>此模型正在运行。</translation>
    </message>
    <message>
        <source>Switch to another model before deleting this one.</source>
        <translation>删除此模型前，请先切换到其他模型。</translation>
    </message>
    <message>
        <source>State: %1</source>
        <translation>状态：%1</translation>
    </message>
    <message>
        <source>%1 parameters</source>
        <translation>%1 个参数</translation>
    </message>
    <message>
        <source>Memory on CPU: %1 · on GPU: %2</source>
        <translation>内存占用：CPU %1 · GPU %2</translation>
    </message>
    <message>
        <source>(ternary weights %1 at 2 bits each, embeddings %2 in fp32, state %3 per conversation)</source>
        <translation>（三值权重 %1，每个 2 位；嵌入 %2，fp32；每个对话的状态 %3）</translation>
    </message>
    <message>
        <source>Searching the hub …</source>
        <translation>正在搜索 Hub …</translation>
    </message>
    <message>
        <source>Checking %1 …</source>
        <translation>正在检查 %1 …</translation>
    </message>
    <message>
        <source>Import a model folder</source>
        <translation>导入模型文件夹</translation>
    </message>
    <message>
        <source>Import a packed model file</source>
        <translation>导入打包的模型文件</translation>
    </message>
    <message>
        <source>Packed models (*.gguf);;All files (*)</source>
        <translation>打包的模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>%1 is running; switch to another model before deleting it.</source>
        <translation>%1 正在运行；删除前请先切换到其他模型。</translation>
    </message>
    <message>
        <source>Delete %1 and free %2 of disk space?</source>
        <translation>删除 %1 并释放 %2 磁盘空间？</translation>
    </message>
    <message>
        <source>Remove %1 from the library? Its files stay where they are.</source>
        <translation>从模型库中移除 %1？其文件将保留在原位置。</translation>
    </message>
    <message>
        <source>Delete model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <source>Removed the packed copy of %1 (%2 freed); the next use packs it again.</source>
        <translation>已删除 %1 的打包副本（释放 %2）；下次使用时会重新打包。</translation>
    </message>
    <message>
        <source>Remove packed copy</source>
        <translation>删除打包副本</translation>
    </message>
    <message>
        <source>Packed copy for instant switching: %1</source>
        <translation>用于即时切换的打包副本：%1</translation>
    </message>
    <message>
        <source>Not packed yet: the first use packs it, later switches load the pack.</source>
        <translation>尚未打包：首次使用时打包，之后切换将直接加载打包文件。</translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Automatic (GPU when one works, else CPU)</source>
        <translation>自动（有可用 GPU 时使用 GPU，否则使用 CPU）</translation>
    </message>
    <message>
        <source>%1 (unavailable: %2)</source>
        <translation>%1（不可用：%2）</translation>
    </message>
    <message>
        <source>Compute backend</source>
        <translation>计算后端</translation>
    </message>
    <message>
        <source>Local API server (OpenAI-compatible)</source>
        <translation>本地 API 服务器（兼容 OpenAI）</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>This computer only (127.0.0.1)</source>
        <translation>仅本机 (127.0.0.1)</translation>
    </message>
    <message>
        <source>All network interfaces (other computers; needs the API key)</source>
        <translation>所有网络接口（其他计算机；需要 API 密钥）</translation>
    </message>
    <message>
        <source>Listen on</source>
        <translation>监听</translation>
    </message>
    <message>
        <source>none (loopback only)</source>
        <translation>无（仅本机）</translation>
    </message>
    <message>
        <source>New key</source>
        <translation>新密钥</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>One origin per line, e.g. http://localhost:3000 (empty: no browser access)</source>
        <translation>每行一个来源，例如 http://localhost:3000（留空：不允许浏览器访问）</translation>
    </message>
    <message>
        <source>Allowed CORS origins</source>
        <translation>允许的 CORS 来源</translation>
    </message>
    <message>
        <source>Serves the loaded model at http://%1:%2/v1</source>
        <translation>在 http://%1:%2/v1 提供已加载的模型</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Running now at %1</source>
        <translation>正在运行：%1</translation>
    </message>
    <message>
        <source>Last start failed: %1</source>
        <translation>上次启动失败：%1</translation>
    </message>
</context>
<context>
    <name>QObject</name>
    <message>
        <source>MMfree Studio</source>
        <translation>MMfree Studio</translation>
    </message>
</context>
</TS>