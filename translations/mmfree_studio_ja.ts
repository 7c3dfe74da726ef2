<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja">
<context>
    <name>AppSettings</name>
    <message>
        <source>System language</source>
        <translation>システムの言語</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CPU (reference)</source>
        <translation>CPU（リファレンス実装）</translation>
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
        <translation>FPGA（シミュレーション）</translation>
    </message>
    <message>
        <source>FPGA board (plugin)</source>
        <translation>FPGA ボード（プラグイン）</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <source>New text</source>
        <translation>新しいテキスト</translation>
    </message>
</context>
<context>
    <name>ChatSettingsDialog</name>
    <message>
        <source>Chat settings</source>
        <translation>チャット設定</translation>
    </message>
    <message>
        <source>Prompt template</source>
        <translation>プロンプトテンプレート</translation>
    </message>
    <message>
        <source>Plain transcript (User / Assistant)</source>
        <translation>プレーンな対話記録（User / Assistant）</translation>
    </message>
    <message>
        <source>Raw text continuation</source>
        <translation>テキストの続きを生成</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>カスタム</translation>
    </message>
    <message>
        <source>Optional text placed before the conversation, e.g. who the assistant is</source>
        <translation>会話の前に置く任意のテキスト（例：アシスタントの役割）</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>プリセット</translation>
    </message>
    <message>
        <source>System text</source>
        <translation>システムテキスト</translation>
    </message>
    <message>
        <source>System format</source>
        <translation>システムの書式</translation>
    </message>
    <message>
        <source>User turn</source>
        <translation>ユーザーのターン</translation>
    </message>
    <message>
        <source>Assistant turn</source>
        <translation>アシスタントのターン</translation>
    </message>
    <message>
        <source>Stop strings</source>
        <translation>停止文字列</translation>
    </message>
    <message>
        <source>{text} and {system} are replaced by the message; \n is a new line. Base models continue the transcript, so the reply ends at the first stop string (separate several with " | ").</source>
        <translation>{text} と {system} はメッセージに置き換えられます。\n は改行です。ベースモデルは対話記録の続きを書くため、返信は最初の停止文字列で終わります（複数ある場合は " | " で区切ります）。</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>サンプリング</translation>
    </message>
    <message>
        <source>off</source>
        <translation>オフ</translation>
    </message>
    <message>
        <source>New random seed for every reply</source>
        <translation>返信ごとに新しいランダムシード</translation>
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
        <translation>繰り返しペナルティ</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>最大トークン数</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>シード</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>The reply failed: %1</source>
        <translation>返信に失敗しました：%1</translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation>チャット設定</translation>
    </message>
    <message>
        <source>Template, system text and sampling for this conversation</source>
        <translation>この会話のテンプレート、システムテキスト、サンプリング</translation>
    </message>
    <message>
        <source>Choose a model folder…</source>
        <translation>モデルのフォルダーを選択…</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>再試行</translation>
    </message>
    <message>
        <source>Download a model…</source>
        <translation>モデルをダウンロード…</translation>
    </message>
    <message>
        <source>Write a message — Enter sends, Shift+Enter starts a new line</source>
        <translation>メッセージを入力 — Enter で送信、Shift+Enter で改行</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>送信</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>送信（Enter）</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>返信を停止（Esc）</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a conversation&lt;/h2&gt;&lt;p&gt;Type a message below. The model continues a plain transcript ("User: …\nAssistant:"); change the template and sampling in &lt;b&gt;Chat settings&lt;/b&gt;.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;会話を始めましょう&lt;/h2&gt;&lt;p&gt;下にメッセージを入力してください。モデルはプレーンな対話記録（"User: …\nAssistant:"）の続きを書きます。テンプレートとサンプリングは&lt;b&gt;チャット設定&lt;/b&gt;で変更できます。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <source>The other model could not be loaded; still using %1</source>
        <translation>別のモデルを読み込めませんでした。引き続き %1 を使用します</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>モデルを読み込み中…</translation>
    </message>
    <message>
        <source>The model could not be loaded</source>
        <translation>モデルを読み込めませんでした</translation>
    </message>
    <message>
        <source>%1

Choose another model folder (it needs config.json, model.safetensors and tokenizer.model), or fix the files and try again.</source>
        <translation>%1

別のモデルフォルダーを選ぶ（config.json、model.safetensors、tokenizer.model が必要です）か、ファイルを修正して再試行してください。</translation>
    </message>
    <message>
        <source>No model yet</source>
        <translation>まだモデルがありません</translation>
    </message>
    <message>
        <source>Choose a folder with a MatMul-free model (config.json, model.safetensors and tokenizer.model), or download one on the Models page.</source>
        <translation>MatMul-free モデルのフォルダー（config.json、model.safetensors、tokenizer.model）を選ぶか、「モデル」ページでダウンロードしてください。</translation>
    </message>
    <message>
        <source>Write the opening (or more text) — Enter lets the model continue</source>
        <translation>書き出し（または続きの文）を入力 — Enter でモデルが続けます</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>続ける</translation>
    </message>
    <message>
        <source>Once upon a time, in a village at the edge of a great forest,</source>
        <translation>むかしむかし、大きな森のはずれの村に、</translation>
    </message>
    <message>
        <source>The little robot woke up and saw that the sun</source>
        <translation>小さなロボットが目を覚ますと、太陽が</translation>
    </message>
    <message>
        <source>Lily found a small red box under her bed. When she opened it,</source>
        <translation>リリーはベッドの下で小さな赤い箱を見つけました。開けてみると、</translation>
    </message>
    <message>
        <source>Every night, the old cat sat by the window and</source>
        <translation>毎晩、年老いた猫は窓辺に座って</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a story&lt;/h2&gt;&lt;p&gt;The built-in model is a small storyteller: write the opening of a story and it continues it. Try one of these:&lt;/p&gt;</source>
        <translation>&lt;h2&gt;物語を始めましょう&lt;/h2&gt;&lt;p&gt;内蔵モデルは小さな語り手です。物語の書き出しを書くと続きを書きます。例えば：&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Write an opening&lt;/h2&gt;&lt;p&gt;Base models continue text: write the beginning below and the model continues it in place, with this conversation's sampling settings.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;書き出しを書く&lt;/h2&gt;&lt;p&gt;ベースモデルは文章の続きを書きます。下に書き出しを入力すると、この会話のサンプリング設定でその場に続きを書きます。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Send a first message: settings belong to a conversation</source>
        <translation>最初のメッセージを送ってください：設定は会話ごとです</translation>
    </message>
    <message>
        <source>%1

This model has no usable tokenizer (tokenizer.model), so it cannot chat. Add the tokenizer to its folder, or choose another model.</source>
        <translation>%1

このモデルには使えるトークナイザー（tokenizer.model）がないため会話できません。フォルダーに追加するか、別のモデルを選んでください。</translation>
    </message>
    <message>
        <source>%1

The model is not there any more. Choose a model folder (config.json, model.safetensors and tokenizer.model) or download one.</source>
        <translation>%1

モデルが見つかりません。モデルのフォルダー（config.json、model.safetensors、tokenizer.model）を選ぶか、ダウンロードしてください。</translation>
    </message>
    <message>
        <source>Chat settings belong to a conversation: send a first message, then change them.</source>
        <translation>チャット設定は会話ごとです。最初のメッセージを送ってから変更してください。</translation>
    </message>
</context>
<context>
    <name>CodeBlockView</name>
    <message>
        <source>Copied</source>
        <translation>コピーしました</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>コピー</translation>
    </message>
</context>
<context>
    <name>ConversationSidebar</name>
    <message>
        <source>New chat</source>
        <translation>新しいチャット</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>新しい会話を始める（Ctrl+N）</translation>
    </message>
    <message>
        <source>Import a conversation from JSON</source>
        <translation>JSON から会話をインポート</translation>
    </message>
    <message>
        <source>Search all messages (Ctrl+F)</source>
        <translation>すべてのメッセージを検索（Ctrl+F）</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>元に戻す</translation>
    </message>
    <message>
        <source>Conversation deleted</source>
        <translation>会話を削除しました</translation>
    </message>
    <message>
        <source>No messages contain “%1”</source>
        <translation>「%1」を含むメッセージはありません</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>名前を変更</translation>
    </message>
    <message>
        <source>Export as Markdown…</source>
        <translation>Markdown としてエクスポート…</translation>
    </message>
    <message>
        <source>Export as JSON…</source>
        <translation>JSON としてエクスポート…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>削除</translation>
    </message>
    <message>
        <source>Export as Markdown</source>
        <translation>Markdown としてエクスポート</translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation>JSON としてエクスポート</translation>
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
        <translation>エクスポートに失敗しました</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 に書き込めませんでした：%2</translation>
    </message>
    <message>
        <source>Import a conversation</source>
        <translation>会話をインポート</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>インポートに失敗しました</translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>%1 を読み込めませんでした：%2</translation>
    </message>
    <message>
        <source>%1 is not valid JSON: %2</source>
        <translation>%1 は有効な JSON ではありません：%2</translation>
    </message>
</context>
<context>
    <name>ConversationStore</name>
    <message>
        <source>Cannot open the conversation database %1: %2</source>
        <translation>会話データベース %1 を開けません：%2</translation>
    </message>
    <message>
        <source>The conversation database was written by a newer MMfree Studio (schema %1, this version knows %2).</source>
        <translation>会話データベースは新しいバージョンの MMfree Studio で書き込まれています（スキーマ %1、このバージョンは %2 まで対応）。</translation>
    </message>
    <message>
        <source>Upgrading the conversation database to version %1 failed: %2</source>
        <translation>会話データベースをバージョン %1 に更新できませんでした：%2</translation>
    </message>
    <message>
        <source>This file is not an MMfree Studio conversation (missing "format": "mmfree-conversation").</source>
        <translation>このファイルは MMfree Studio の会話ではありません（"format": "mmfree-conversation" がありません）。</translation>
    </message>
    <message>
        <source>This conversation was exported by a newer MMfree Studio (format version %1).</source>
        <translation>この会話は新しいバージョンの MMfree Studio でエクスポートされました（形式バージョン %1）。</translation>
    </message>
    <message>
        <source>The conversation has no "messages" list.</source>
        <translation>会話に "messages" の一覧がありません。</translation>
    </message>
    <message>
        <source>Message %1 has an unknown role "%2".</source>
        <translation>メッセージ %1 の役割「%2」は不明です。</translation>
    </message>
    <message>
        <source>Imported conversation</source>
        <translation>インポートした会話</translation>
    </message>
    <message>
        <source>Saving the imported conversation failed: %1</source>
        <translation>インポートした会話を保存できませんでした：%1</translation>
    </message>
</context>
<context>
    <name>DashboardPage</name>
    <message>
        <source>Dashboard</source>
        <translation>ダッシュボード</translation>
    </message>
    <message>
        <source>Show the last</source>
        <translation>表示期間</translation>
    </message>
    <message>
        <source>1 minute</source>
        <translation>直近 1 分</translation>
    </message>
    <message>
        <source>2 minutes</source>
        <translation>直近 2 分</translation>
    </message>
    <message>
        <source>5 minutes</source>
        <translation>直近 5 分</translation>
    </message>
    <message>
        <source>10 minutes</source>
        <translation>直近 10 分</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>再開</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>一時停止</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>CSV をエクスポート…</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>PNG をエクスポート…</translation>
    </message>
    <message>
        <source>Tokens / s</source>
        <translation>トークン/秒</translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation>レイテンシ p50</translation>
    </message>
    <message>
        <source>First token</source>
        <translation>最初のトークン</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>メモリ</translation>
    </message>
    <message>
        <source>Power</source>
        <translation>電力</translation>
    </message>
    <message>
        <source>Energy</source>
        <translation>エネルギー</translation>
    </message>
    <message>
        <source>Throughput (tokens/s)</source>
        <translation>スループット（トークン/秒）</translation>
    </message>
    <message>
        <source>Per-token latency (ms)</source>
        <translation>トークンあたりのレイテンシ（ms）</translation>
    </message>
    <message>
        <source>Memory (MiB)</source>
        <translation>メモリ（MiB）</translation>
    </message>
    <message>
        <source>Power (W)</source>
        <translation>電力（W）</translation>
    </message>
    <message>
        <source>tokens/s</source>
        <translation>トークン/秒</translation>
    </message>
    <message>
        <source>per token</source>
        <translation>トークンあたり</translation>
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
        <translation>プロセスの RSS</translation>
    </message>
    <message>
        <source>GPU memory used</source>
        <translation>使用中の GPU メモリ</translation>
    </message>
    <message>
        <source>%1 (modeled)</source>
        <translation>%1（推定）</translation>
    </message>
    <message>
        <source>%1: not available — %2</source>
        <translation>%1：使用できません — %2</translation>
    </message>
    <message>
        <source>Power (W) — no sensor available</source>
        <translation>電力（W）— 利用できるセンサーがありません</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>待機中</translation>
    </message>
    <message>
        <source> · backend %1</source>
        <translation> · バックエンド %1</translation>
    </message>
    <message numerus="yes">
        <source>%n token(s)</source>
        <translation>
            <numerusform>%n トークン</numerusform>
        </translation>
    </message>
    <message>
        <source>p95 %1 ms · last %2 ms</source>
        <translation>p95 %1 ms · 直近 %2 ms</translation>
    </message>
    <message>
        <source>last reply</source>
        <translation>直近の返信</translation>
    </message>
    <message>
        <source>after the first reply</source>
        <translation>最初の返信後に表示</translation>
    </message>
    <message>
        <source>peak %1</source>
        <translation>ピーク %1</translation>
    </message>
    <message>
        <source> · GPU %1 / %2</source>
        <translation> · GPU %1 / %2</translation>
    </message>
    <message>
        <source>modeled</source>
        <translation>推定</translation>
    </message>
    <message>
        <source>measured</source>
        <translation>実測</translation>
    </message>
    <message>
        <source>n/a</source>
        <translation>なし</translation>
    </message>
    <message>
        <source>no power sensor available</source>
        <translation>利用できる電力センサーがありません</translation>
    </message>
    <message>
        <source>%1 tokens per joule</source>
        <translation>1 ジュールあたり %1 トークン</translation>
    </message>
    <message>
        <source>after a reply</source>
        <translation>返信後に表示</translation>
    </message>
    <message>
        <source>needs a power sensor</source>
        <translation>電力センサーが必要です</translation>
    </message>
    <message>
        <source>Export series as CSV</source>
        <translation>データ系列を CSV としてエクスポート</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV ファイル (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>エクスポートに失敗しました</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 に書き込めませんでした：%2</translation>
    </message>
    <message>
        <source>Export view as PNG</source>
        <translation>表示を PNG としてエクスポート</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 画像 (*.png)</translation>
    </message>
    <message>
        <source>Could not write %1</source>
        <translation>%1 に書き込めませんでした</translation>
    </message>
    <message>
        <source>device memory used</source>
        <translation>デバイスメモリ使用量</translation>
    </message>
    <message>
        <source>norm + quant</source>
        <translation>正規化 + 量子化</translation>
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
        <translation>GPU タイムスタンプ</translation>
    </message>
    <message>
        <source>CPU timers</source>
        <translation>CPU タイマー</translation>
    </message>
    <message>
        <source>%1 backend</source>
        <translation>%1 バックエンド</translation>
    </message>
    <message>
        <source>Time per stage per token (µs)</source>
        <translation>トークンあたりの段階別時間（µs）</translation>
    </message>
    <message>
        <source>Time per stage per token (µs) — %1</source>
        <translation>トークンあたりの段階別時間（µs）— %1</translation>
    </message>
    <message>
        <source>Last token: %1</source>
        <translation>直近のトークン: %1</translation>
    </message>
    <message>
        <source>Per-stage times appear while a reply streams, on backends that measure them.</source>
        <translation>応答の生成中、計測に対応したバックエンドでは段階別の時間がここに表示されます。</translation>
    </message>
    <message>
        <source>The fused decode kernels run norm, quantization and the MLGRU inside the BitLinear dispatches; their time is counted there.</source>
        <translation>融合デコードカーネルは正規化・量子化・MLGRU を BitLinear のディスパッチ内で実行するため、その時間は BitLinear に含まれます。</translation>
    </message>
    <message>
        <source>Device memory (VK_EXT_memory_budget): %1 used / %2 budget</source>
        <translation>デバイスメモリ（VK_EXT_memory_budget）: 使用 %1 / 予算 %2</translation>
    </message>
    <message>
        <source>Device memory used / budget: not available on this device</source>
        <translation>デバイスメモリ使用量 / 予算: このデバイスでは利用できません</translation>
    </message>
    <message>
        <source> · device %1 / %2 budget</source>
        <translation> · デバイス %1 / 予算 %2</translation>
    </message>
    <message>
        <source>Streams and API traffic</source>
        <translation>ストリームと API トラフィック</translation>
    </message>
    <message>
        <source>chat streams</source>
        <translation>チャットのストリーム</translation>
    </message>
    <message>
        <source>API requests/s</source>
        <translation>API リクエスト/秒</translation>
    </message>
    <message>
        <source>API in flight</source>
        <translation>処理中の API</translation>
    </message>
    <message numerus="yes">
        <source>Generating: %n stream(s)</source>
        <translation>
            <numerusform>生成中：%n ストリーム</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>all %n streams · per stream: see latency</source>
        <translation>
            <numerusform>全 %n ストリーム · 各ストリーム：レイテンシー参照</numerusform>
        </translation>
    </message>
    <message>
        <source>last reply: %1 tokens/s</source>
        <translation>前回の返答：%1 トークン/秒</translation>
    </message>
</context>
<context>
    <name>EngineService</name>
    <message>
        <source>No model is loaded.</source>
        <translation>モデルが読み込まれていません。</translation>
    </message>
    <message>
        <source>cannot write %1</source>
        <translation>%1 を書き込めません</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Chat</source>
        <translation>チャット</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>モデル</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>ダッシュボード</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>新しいチャット(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Import conversation…</source>
        <translation>会話をインポート(&amp;I)…</translation>
    </message>
    <message>
        <source>Export as &amp;Markdown…</source>
        <translation>Markdown としてエクスポート(&amp;M)…</translation>
    </message>
    <message>
        <source>Export as &amp;JSON…</source>
        <translation>JSON としてエクスポート(&amp;J)…</translation>
    </message>
    <message>
        <source>Open &amp;model folder…</source>
        <translation>モデルのフォルダーを開く(&amp;M)…</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>設定(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Search messages</source>
        <translation>メッセージを検索(&amp;S)</translation>
    </message>
    <message>
        <source>S&amp;top reply</source>
        <translation>返信を停止(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Regenerate reply</source>
        <translation>返信を再生成(&amp;R)</translation>
    </message>
    <message>
        <source>Re&amp;name conversation</source>
        <translation>会話の名前を変更(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Delete conversation</source>
        <translation>会話を削除(&amp;D)</translation>
    </message>
    <message>
        <source>Chat se&amp;ttings…</source>
        <translation>チャット設定(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>チャット(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation>モデル(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation>ダッシュボード(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;About MMfree Studio</source>
        <translation>MMfree Studio について(&amp;A)</translation>
    </message>
    <message>
        <source>About MMfree Studio</source>
        <translation>MMfree Studio について</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MMfree Studio %1&lt;/h3&gt;&lt;p&gt;Chat with MatMul-free language models on your own computer.&lt;/p&gt;&lt;p&gt;Apache License 2.0&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MMfree Studio %1&lt;/h3&gt;&lt;p&gt;自分のコンピューターで MatMul-free 言語モデルとチャットできます。&lt;/p&gt;&lt;p&gt;Apache License 2.0&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Open model folder…</source>
        <translation>モデルのフォルダーを開く…</translation>
    </message>
    <message>
        <source>Reload model</source>
        <translation>モデルを再読み込み</translation>
    </message>
    <message>
        <source>Manage models</source>
        <translation>モデルを管理</translation>
    </message>
    <message>
        <source>MMfree Studio</source>
        <translation>MMfree Studio</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>準備完了</translation>
    </message>
    <message>
        <source>First token %1 ms · %2 tokens/s · %3 tokens · %4</source>
        <translation>最初のトークン %1 ms · %2 トークン/秒 · %3 トークン · %4</translation>
    </message>
    <message>
        <source>no backend</source>
        <translation>バックエンドなし</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>モデルを読み込み中…</translation>
    </message>
    <message>
        <source>Model failed to load</source>
        <translation>モデルの読み込みに失敗</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>モデルなし</translation>
    </message>
    <message>
        <source>%1
Backend: %2 — %3</source>
        <translation>%1
バックエンド：%2 — %3</translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation>モデルのフォルダーを選択</translation>
    </message>
    <message>
        <source>New &amp;text (completion)</source>
        <translation>新しいテキスト（続き書き）(&amp;T)</translation>
    </message>
    <message numerus="yes">
        <source>API %1 · %n request(s)</source>
        <translation>
            <numerusform>API %1 · %n 件のリクエスト</numerusform>
        </translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation>ローカル API サーバー</translation>
    </message>
    <message>
        <source>The API server could not start: %1</source>
        <translation>API サーバーを起動できませんでした：%1</translation>
    </message>
    <message>
        <source>Packing %1 for instant switching…</source>
        <translation>%1 を即時切り替え用にパック中…</translation>
    </message>
    <message>
        <source>Could not pack %1: %2</source>
        <translation>%1 をパックできませんでした：%2</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>Copied</source>
        <translation>コピーしました</translation>
    </message>
    <message>
        <source>You</source>
        <translation>あなた</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>アシスタント</translation>
    </message>
    <message>
        <source>System</source>
        <translation>システム</translation>
    </message>
    <message>
        <source>Copy the message</source>
        <translation>メッセージをコピー</translation>
    </message>
    <message>
        <source>Edit and resend</source>
        <translation>編集して再送信</translation>
    </message>
    <message>
        <source>Regenerate the reply</source>
        <translation>返信を再生成</translation>
    </message>
    <message>
        <source>Save and resend</source>
        <translation>保存して再送信</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <source>writing…</source>
        <translation>作成中…</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>中断</translation>
    </message>
</context>
<context>
    <name>ModelCatalog</name>
    <message>
        <source>available</source>
        <translation>ダウンロード可能</translation>
    </message>
    <message>
        <source>downloading</source>
        <translation>ダウンロード中</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>一時停止中</translation>
    </message>
    <message>
        <source>installed</source>
        <translation>インストール済み</translation>
    </message>
    <message>
        <source>broken</source>
        <translation>破損</translation>
    </message>
    <message>
        <source>Demo model (built in)</source>
        <translation>デモモデル（組み込み）</translation>
    </message>
    <message>
        <source>built in</source>
        <translation>組み込み</translation>
    </message>
    <message>
        <source>imported from %1</source>
        <translation>%1 からインポート</translation>
    </message>
    <message>
        <source>%1 no longer exists (moved or deleted?)</source>
        <translation>%1 が見つかりません（移動または削除された可能性があります）</translation>
    </message>
    <message>
        <source>downloading to %1</source>
        <translation>%1 にダウンロード中</translation>
    </message>
    <message>
        <source>downloaded to %1</source>
        <translation>%1 にダウンロード済み</translation>
    </message>
    <message>
        <source>partly downloaded to %1</source>
        <translation>%1 に一部ダウンロード済み</translation>
    </message>
    <message>
        <source>The download stopped at %1 of %2; resume to continue.</source>
        <translation>ダウンロードは %1 / %2 で停止しました。「再開」で続きからダウンロードできます。</translation>
    </message>
    <message>
        <source>Hugging Face cache (%1), used in place</source>
        <translation>Hugging Face キャッシュ（%1）をそのまま使用</translation>
    </message>
    <message>
        <source>%1 on disk</source>
        <translation>ディスク使用量 %1</translation>
    </message>
    <message>
        <source>%1 download</source>
        <translation>ダウンロードサイズ %1</translation>
    </message>
    <message>
        <source>≈ %1 download</source>
        <translation>ダウンロードサイズ ≈ %1</translation>
    </message>
    <message>
        <source>size unknown</source>
        <translation>サイズ不明</translation>
    </message>
    <message>
        <source>memory: not known yet</source>
        <translation>メモリ：まだ不明</translation>
    </message>
    <message>
        <source>RAM %1 · GPU %2</source>
        <translation>RAM %1 · GPU %2</translation>
    </message>
    <message>
        <source>"%1" is not a repository id; use the form owner/name, e.g. ridger/MMfreeLM-370M</source>
        <translation>「%1」はリポジトリ ID ではありません。owner/name の形式で指定してください（例：ridger/MMfreeLM-370M）</translation>
    </message>
    <message>
        <source>This is a "%1" model, not a MatMul-free one; the engine cannot run it.</source>
        <translation>これは「%1」モデルで、MatMul-free モデルではないため、エンジンでは実行できません。</translation>
    </message>
    <message>
        <source>%1 is not in the library</source>
        <translation>%1 はライブラリにありません</translation>
    </message>
    <message>
        <source>%1 is already on this computer</source>
        <translation>%1 はすでにこのコンピューターにあります</translation>
    </message>
    <message>
        <source>%1 is already installed</source>
        <translation>%1 はすでにインストールされています</translation>
    </message>
    <message>
        <source>The built-in demo model is part of the application and cannot be deleted.</source>
        <translation>組み込みのデモモデルはアプリケーションの一部のため、削除できません。</translation>
    </message>
    <message>
        <source>Removed %1 from the library; its files in %2 were left in place.</source>
        <translation>%1 をライブラリから削除しました。%2 にあるファイルはそのまま残っています。</translation>
    </message>
    <message>
        <source>Deleted %1 partly: %2 freed, %3 could not be removed from %4.</source>
        <translation>%1 を一部削除しました：%2 を解放しましたが、%4 の %3 は削除できませんでした。</translation>
    </message>
    <message>
        <source>Deleted %1: %2 freed.</source>
        <translation>%1 を削除しました：%2 を解放しました。</translation>
    </message>
    <message>
        <source>Deleted %1 from the Hugging Face cache: %2 freed.</source>
        <translation>%1 を Hugging Face キャッシュから削除しました：%2 を解放しました。</translation>
    </message>
    <message>
        <source>Removed %1 from the library.</source>
        <translation>%1 をライブラリから削除しました。</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <source>waiting to retry</source>
        <translation>再試行待ち</translation>
    </message>
</context>
<context>
    <name>ModelSwitchBar</name>
    <message>
        <source>This conversation ran on %1.</source>
        <translation>この会話は %1 で行われました。</translation>
    </message>
    <message>
        <source>This conversation ran on %1; %2 is loaded now.</source>
        <translation>この会話は %1 で行われました。現在は %2 が読み込まれています。</translation>
    </message>
    <message>
        <source>Switch to %1</source>
        <translation>%1 に切り替え</translation>
    </message>
    <message>
        <source>Keep %1</source>
        <translation>%1 のままにする</translation>
    </message>
    <message>
        <source>current</source>
        <translation>現在のモデル</translation>
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
        <translation>%1 のダウンロードと検証が完了しました。「このモデルを使用」を選ぶとチャットできます。</translation>
    </message>
    <message>
        <source>%1 was downloaded but does not check out: %2</source>
        <translation>%1 はダウンロードされましたが、検証に失敗しました：%2</translation>
    </message>
    <message>
        <source>Download of %1 stopped: %2</source>
        <translation>%1 のダウンロードが停止しました：%2</translation>
    </message>
    <message>
        <source>%1 was not added; these files have problems:
%2</source>
        <translation>%1 は追加されませんでした。次のファイルに問題があります：
%2</translation>
    </message>
    <message>
        <source>Added %1.</source>
        <translation>%1 を追加しました。</translation>
    </message>
    <message>
        <source>Added %1, with notes:
%2</source>
        <translation>%1 を追加しました（注意事項あり）：
%2</translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>検索に失敗しました：%1</translation>
    </message>
    <message>
        <source>No MatMul-free models matched.</source>
        <translation>一致する MatMul-free モデルはありません。</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s) on the hub — double-click one to add it:</source>
        <translation>
            <numerusform>Hub 上のモデル %n 件 — ダブルクリックで追加：</numerusform>
        </translation>
    </message>
    <message>
        <source>%1   ·   %2 downloads   ·   %3 likes</source>
        <translation>%1   ·   %2 ダウンロード   ·   %3 いいね</translation>
    </message>
    <message>
        <source>Now chatting with %1.</source>
        <translation>%1 とチャット中です。</translation>
    </message>
    <message>
        <source>Could not load %1: %2
%3 is still running.</source>
        <translation>%1 を読み込めませんでした：%2
%3 は引き続き実行中です。</translation>
    </message>
    <message>
        <source>Could not load %1: %2</source>
        <translation>%1 を読み込めませんでした：%2</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>モデル</translation>
    </message>
    <message>
        <source>Search the Hugging Face Hub for MatMul-free (hgrn_bit) models</source>
        <translation>Hugging Face Hub で MatMul-free（hgrn_bit）モデルを検索</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>検索</translation>
    </message>
    <message>
        <source>owner/name, e.g. ridger/MMfreeLM-2.7B</source>
        <translation>owner/name（例：ridger/MMfreeLM-2.7B）</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>追加</translation>
    </message>
    <message>
        <source>Import folder…</source>
        <translation>フォルダーをインポート…</translation>
    </message>
    <message>
        <source>Import file…</source>
        <translation>ファイルをインポート…</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>ダウンロード</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>一時停止</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>再開</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>ダウンロードをキャンセル</translation>
    </message>
    <message>
        <source>Use this model</source>
        <translation>このモデルを使用</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>削除</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>モデルが読み込まれていません。</translation>
    </message>
    <message>
        <source>Current model: %1 — %2 on %3</source>
        <translation>現在のモデル：%1 — %2（%3）</translation>
    </message>
    <message>
        <source>Loading %1 …</source>
        <translation>%1 を読み込み中 …</translation>
    </message>
    <message>
        <source>Choose a model on the left.</source>
        <translation>左側でモデルを選択してください。</translation>
    </message>
    <message>
        <source>This model has no usable tokenizer, so it cannot chat.</source>
        <translation>このモデルには使用できるトークナイザーがないため、チャットできません。</translation>
    </message>
    <message>
        <source>This model is running now.</source>
        <translation>このモデルは現在実行中です。</translation>
    </message>
    <message>
        <source>Switch to another model before deleting this one.</source>
        <translation>このモデルを削除する前に、別のモデルに切り替えてください。</translation>
    </message>
    <message>
        <source>State: %1</source>
        <translation>状態：%1</translation>
    </message>
    <message>
        <source>%1 parameters</source>
        <translation>パラメーター数 %1</translation>
    </message>
    <message>
        <source>Memory on CPU: %1 · on GPU: %2</source>
        <translation>メモリ使用量：CPU %1 · GPU %2</translation>
    </message>
    <message>
        <source>(ternary weights %1 at 2 bits each, embeddings %2 in fp32, state %3 per conversation)</source>
        <translation>（三値の重み %1（各 2 ビット）、埋め込み %2（fp32）、会話ごとの状態 %3）</translation>
    </message>
    <message>
        <source>Searching the hub …</source>
        <translation>Hub を検索中 …</translation>
    </message>
    <message>
        <source>Checking %1 …</source>
        <translation>%1 を確認中 …</translation>
    </message>
    <message>
        <source>Import a model folder</source>
        <translation>モデルのフォルダーをインポート</translation>
    </message>
    <message>
        <source>Import a packed model file</source>
        <translation>パック済みモデルファイルをインポート</translation>
    </message>
    <message>
        <source>Packed models (*.gguf);;All files (*)</source>
        <translation>パック済みモデル (*.gguf);;すべてのファイル (*)</translation>
    </message>
    <message>
        <source>%1 is running; switch to another model before deleting it.</source>
        <translation>%1 は実行中です。削除する前に別のモデルに切り替えてください。</translation>
    </message>
    <message>
        <source>Delete %1 and free %2 of disk space?</source>
        <translation>%1 を削除して %2 のディスク容量を解放しますか？</translation>
    </message>
    <message>
        <source>Remove %1 from the library? Its files stay where they are.</source>
        <translation>%1 をライブラリから削除しますか？ファイルはそのまま残ります。</translation>
    </message>
    <message>
        <source>Delete model</source>
        <translation>モデルを削除</translation>
    </message>
    <message>
        <source>Removed the packed copy of %1 (%2 freed); the next use packs it again.</source>
        <translation>%1 のパックを削除しました（%2 解放）。次の使用時に再びパックします。</translation>
    </message>
    <message>
        <source>Remove packed copy</source>
        <translation>パックを削除</translation>
    </message>
    <message>
        <source>Packed copy for instant switching: %1</source>
        <translation>即時切り替え用のパック：%1</translation>
    </message>
    <message>
        <source>Not packed yet: the first use packs it, later switches load the pack.</source>
        <translation>まだパックされていません。最初の使用時にパックし、以後の切り替えはパックを読み込みます。</translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <source>Preferences</source>
        <translation>設定</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>言語</translation>
    </message>
    <message>
        <source>Automatic (GPU when one works, else CPU)</source>
        <translation>自動（使える GPU があれば GPU、なければ CPU）</translation>
    </message>
    <message>
        <source>%1 (unavailable: %2)</source>
        <translation>%1（使用不可：%2）</translation>
    </message>
    <message>
        <source>Compute backend</source>
        <translation>計算バックエンド</translation>
    </message>
    <message>
        <source>Local API server (OpenAI-compatible)</source>
        <translation>ローカル API サーバー（OpenAI 互換）</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>ポート</translation>
    </message>
    <message>
        <source>This computer only (127.0.0.1)</source>
        <translation>このコンピューターのみ (127.0.0.1)</translation>
    </message>
    <message>
        <source>All network interfaces (other computers; needs the API key)</source>
        <translation>すべてのネットワーク（他のコンピューター。API キーが必要）</translation>
    </message>
    <message>
        <source>Listen on</source>
        <translation>待ち受け</translation>
    </message>
    <message>
        <source>none (loopback only)</source>
        <translation>なし（ループバックのみ）</translation>
    </message>
    <message>
        <source>New key</source>
        <translation>新しいキー</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>コピー</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API キー</translation>
    </message>
    <message>
        <source>One origin per line, e.g. http://localhost:3000 (empty: no browser access)</source>
        <translation>1 行に 1 つのオリジン（例 http://localhost:3000、空ならブラウザーからは不可）</translation>
    </message>
    <message>
        <source>Allowed CORS origins</source>
        <translation>許可する CORS オリジン</translation>
    </message>
    <message>
        <source>Serves the loaded model at http://%1:%2/v1</source>
        <translation>読み込んだモデルを http://%1:%2/v1 で提供します</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>オフ</translation>
    </message>
    <message>
        <source>Running now at %1</source>
        <translation>実行中：%1</translation>
    </message>
    <message>
        <source>Last start failed: %1</source>
        <translation>前回の起動に失敗：%1</translation>
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