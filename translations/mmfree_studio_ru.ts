<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru">
<context>
    <name>AppSettings</name>
    <message>
        <source>System language</source>
        <translation>Язык системы</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>ЦП</translation>
    </message>
    <message>
        <source>CPU (reference)</source>
        <translation>ЦП (эталонная реализация)</translation>
    </message>
    <message>
        <source>Vulkan GPU</source>
        <translation>GPU (Vulkan)</translation>
    </message>
    <message>
        <source>CUDA GPU</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <source>FPGA (simulated)</source>
        <translation>FPGA (симуляция)</translation>
    </message>
    <message>
        <source>FPGA board (plugin)</source>
        <translation>Плата FPGA (плагин)</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <source>New chat</source>
        <translation>Новый чат</translation>
    </message>
    <message>
        <source>New text</source>
        <translation>Новый текст</translation>
    </message>
</context>
<context>
    <name>ChatSettingsDialog</name>
    <message>
        <source>Chat settings</source>
        <translation>Настройки чата</translation>
    </message>
    <message>
        <source>Prompt template</source>
        <translation>Шаблон запроса</translation>
    </message>
    <message>
        <source>Plain transcript (User / Assistant)</source>
        <translation>Простая стенограмма (User / Assistant)</translation>
    </message>
    <message>
        <source>Raw text continuation</source>
        <translation>Продолжение текста как есть</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>Свой</translation>
    </message>
    <message>
        <source>Optional text placed before the conversation, e.g. who the assistant is</source>
        <translation>Необязательный текст перед разговором, например кто такой ассистент</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>Набор</translation>
    </message>
    <message>
        <source>System text</source>
        <translation>Системный текст</translation>
    </message>
    <message>
        <source>System format</source>
        <translation>Формат системного текста</translation>
    </message>
    <message>
        <source>User turn</source>
        <translation>Реплика пользователя</translation>
    </message>
    <message>
        <source>Assistant turn</source>
        <translation>Реплика ассистента</translation>
    </message>
    <message>
        <source>Stop strings</source>
        <translation>Стоп-строки</translation>
    </message>
    <message>
        <source>{text} and {system} are replaced by the message; \n is a new line. Base models continue the transcript, so the reply ends at the first stop string (separate several with " | ").</source>
        <translation>{text} и {system} заменяются сообщением; \n — перевод строки. Базовые модели продолжают стенограмму, поэтому ответ заканчивается на первой стоп-строке (несколько разделяйте « | »).</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>Сэмплирование</translation>
    </message>
    <message>
        <source>off</source>
        <translation>выкл.</translation>
    </message>
    <message>
        <source>New random seed for every reply</source>
        <translation>Новое случайное зерно для каждого ответа</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>Температура</translation>
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
        <translation>Штраф за повторы</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>Макс. токенов</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Зерно</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>The reply failed: %1</source>
        <translation>Ответ не получен: %1</translation>
    </message>
    <message>
        <source>Chat settings</source>
        <translation>Настройки чата</translation>
    </message>
    <message>
        <source>Template, system text and sampling for this conversation</source>
        <translation>Шаблон, системный текст и сэмплирование для этого разговора</translation>
    </message>
    <message>
        <source>Choose a model folder…</source>
        <translation>Выбрать папку модели…</translation>
    </message>
    <message>
        <source>Try again</source>
        <translation>Повторить</translation>
    </message>
    <message>
        <source>Download a model…</source>
        <translation>Скачать модель…</translation>
    </message>
    <message>
        <source>Write a message — Enter sends, Shift+Enter starts a new line</source>
        <translation>Напишите сообщение — Enter отправляет, Shift+Enter начинает новую строку</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Отправить</translation>
    </message>
    <message>
        <source>Send (Enter)</source>
        <translation>Отправить (Enter)</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Стоп</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>Остановить ответ (Esc)</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a conversation&lt;/h2&gt;&lt;p&gt;Type a message below. The model continues a plain transcript ("User: …\nAssistant:"); change the template and sampling in &lt;b&gt;Chat settings&lt;/b&gt;.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Начните разговор&lt;/h2&gt;&lt;p&gt;Напишите сообщение ниже. Модель продолжает простую стенограмму («User: …\nAssistant:»); шаблон и сэмплирование меняются в &lt;b&gt;Настройках чата&lt;/b&gt;.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Новый чат</translation>
    </message>
    <message>
        <source>The other model could not be loaded; still using %1</source>
        <translation>Другую модель загрузить не удалось; по-прежнему используется %1</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>Загрузка модели…</translation>
    </message>
    <message>
        <source>The model could not be loaded</source>
        <translation>Не удалось загрузить модель</translation>
    </message>
    <message>
        <source>%1

Choose another model folder (it needs config.json, model.safetensors and tokenizer.model), or fix the files and try again.</source>
        <translation>%1

Выберите другую папку модели (нужны config.json, model.safetensors и tokenizer.model) или исправьте файлы и повторите.</translation>
    </message>
    <message>
        <source>No model yet</source>
        <translation>Модели пока нет</translation>
    </message>
    <message>
        <source>Choose a folder with a MatMul-free model (config.json, model.safetensors and tokenizer.model), or download one on the Models page.</source>
        <translation>Выберите папку с моделью MatMul-free (config.json, model.safetensors и tokenizer.model) или скачайте модель на странице «Модели».</translation>
    </message>
    <message>
        <source>Write the opening (or more text) — Enter lets the model continue</source>
        <translation>Напишите начало (или ещё текст) — Enter: модель продолжит</translation>
    </message>
    <message>
        <source>Continue</source>
        <translation>Продолжить</translation>
    </message>
    <message>
        <source>Once upon a time, in a village at the edge of a great forest,</source>
        <translation>Давным-давно, в деревне на краю большого леса,</translation>
    </message>
    <message>
        <source>The little robot woke up and saw that the sun</source>
        <translation>Маленький робот проснулся и увидел, что солнце</translation>
    </message>
    <message>
        <source>Lily found a small red box under her bed. When she opened it,</source>
        <translation>Лили нашла под кроватью маленькую красную коробку. Когда она открыла её,</translation>
    </message>
    <message>
        <source>Every night, the old cat sat by the window and</source>
        <translation>Каждый вечер старый кот садился у окна и</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Start a story&lt;/h2&gt;&lt;p&gt;The built-in model is a small storyteller: write the opening of a story and it continues it. Try one of these:&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Начните историю&lt;/h2&gt;&lt;p&gt;Встроенная модель — маленький рассказчик: напишите начало истории, и она продолжит. Попробуйте:&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h2&gt;Write an opening&lt;/h2&gt;&lt;p&gt;Base models continue text: write the beginning below and the model continues it in place, with this conversation's sampling settings.&lt;/p&gt;</source>
        <translation>&lt;h2&gt;Напишите начало&lt;/h2&gt;&lt;p&gt;Базовые модели продолжают текст: напишите начало ниже, и модель продолжит его на месте с настройками выборки этого разговора.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Send a first message: settings belong to a conversation</source>
        <translation>Сначала отправьте сообщение: настройки относятся к разговору</translation>
    </message>
    <message>
        <source>%1

This model has no usable tokenizer (tokenizer.model), so it cannot chat. Add the tokenizer to its folder, or choose another model.</source>
        <translation>%1

У этой модели нет пригодного токенизатора (tokenizer.model), поэтому общаться с ней нельзя. Добавьте его в папку или выберите другую модель.</translation>
    </message>
    <message>
        <source>%1

The model is not there any more. Choose a model folder (config.json, model.safetensors and tokenizer.model) or download one.</source>
        <translation>%1

Модели больше нет на месте. Выберите папку модели (config.json, model.safetensors и tokenizer.model) или скачайте модель.</translation>
    </message>
    <message>
        <source>Chat settings belong to a conversation: send a first message, then change them.</source>
        <translation>Настройки чата относятся к разговору: отправьте первое сообщение, затем измените их.</translation>
    </message>
</context>
<context>
    <name>CodeBlockView</name>
    <message>
        <source>Copied</source>
        <translation>Скопировано</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Копировать</translation>
    </message>
</context>
<context>
    <name>ConversationSidebar</name>
    <message>
        <source>New chat</source>
        <translation>Новый чат</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>Начать новый разговор (Ctrl+N)</translation>
    </message>
    <message>
        <source>Import a conversation from JSON</source>
        <translation>Импортировать разговор из JSON</translation>
    </message>
    <message>
        <source>Search all messages (Ctrl+F)</source>
        <translation>Поиск по всем сообщениям (Ctrl+F)</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Отменить</translation>
    </message>
    <message>
        <source>Conversation deleted</source>
        <translation>Разговор удалён</translation>
    </message>
    <message>
        <source>No messages contain “%1”</source>
        <translation>Нет сообщений, содержащих «%1»</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>Переименовать</translation>
    </message>
    <message>
        <source>Export as Markdown…</source>
        <translation>Экспорт в Markdown…</translation>
    </message>
    <message>
        <source>Export as JSON…</source>
        <translation>Экспорт в JSON…</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Удалить</translation>
    </message>
    <message>
        <source>Export as Markdown</source>
        <translation>Экспорт в Markdown</translation>
    </message>
    <message>
        <source>Export as JSON</source>
        <translation>Экспорт в JSON</translation>
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
        <translation>Экспорт не удался</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>Не удалось записать %1: %2</translation>
    </message>
    <message>
        <source>Import a conversation</source>
        <translation>Импорт разговора</translation>
    </message>
    <message>
        <source>Import failed</source>
        <translation>Импорт не удался</translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>Не удалось прочитать %1: %2</translation>
    </message>
    <message>
        <source>%1 is not valid JSON: %2</source>
        <translation>%1 — некорректный JSON: %2</translation>
    </message>
</context>
<context>
    <name>ConversationStore</name>
    <message>
        <source>Cannot open the conversation database %1: %2</source>
        <translation>Не удаётся открыть базу разговоров %1: %2</translation>
    </message>
    <message>
        <source>The conversation database was written by a newer MMfree Studio (schema %1, this version knows %2).</source>
        <translation>База разговоров записана более новой версией MMfree Studio (схема %1, эта версия знает %2).</translation>
    </message>
    <message>
        <source>Upgrading the conversation database to version %1 failed: %2</source>
        <translation>Не удалось обновить базу разговоров до версии %1: %2</translation>
    </message>
    <message>
        <source>This file is not an MMfree Studio conversation (missing "format": "mmfree-conversation").</source>
        <translation>Этот файл — не разговор MMfree Studio (нет "format": "mmfree-conversation").</translation>
    </message>
    <message>
        <source>This conversation was exported by a newer MMfree Studio (format version %1).</source>
        <translation>Этот разговор экспортирован более новой версией MMfree Studio (версия формата %1).</translation>
    </message>
    <message>
        <source>The conversation has no "messages" list.</source>
        <translation>В разговоре нет списка "messages".</translation>
    </message>
    <message>
        <source>Message %1 has an unknown role "%2".</source>
        <translation>У сообщения %1 неизвестная роль «%2».</translation>
    </message>
    <message>
        <source>Imported conversation</source>
        <translation>Импортированный разговор</translation>
    </message>
    <message>
        <source>Saving the imported conversation failed: %1</source>
        <translation>Не удалось сохранить импортированный разговор: %1</translation>
    </message>
</context>
<context>
    <name>DashboardPage</name>
    <message>
        <source>Dashboard</source>
        <translation>Панель</translation>
    </message>
    <message>
        <source>Show the last</source>
        <translation>Период</translation>
    </message>
    <message>
        <source>1 minute</source>
        <translation>1 минута</translation>
    </message>
    <message>
        <source>2 minutes</source>
        <translation>2 минуты</translation>
    </message>
    <message>
        <source>5 minutes</source>
        <translation>5 минут</translation>
    </message>
    <message>
        <source>10 minutes</source>
        <translation>10 минут</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Продолжить</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>Экспорт в CSV…</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>Экспорт в PNG…</translation>
    </message>
    <message>
        <source>Tokens / s</source>
        <translation>Токенов/с</translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation>Задержка p50</translation>
    </message>
    <message>
        <source>First token</source>
        <translation>Первый токен</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Память</translation>
    </message>
    <message>
        <source>Power</source>
        <translation>Мощность</translation>
    </message>
    <message>
        <source>Energy</source>
        <translation>Энергия</translation>
    </message>
    <message>
        <source>Throughput (tokens/s)</source>
        <translation>Пропускная способность (токенов/с)</translation>
    </message>
    <message>
        <source>Per-token latency (ms)</source>
        <translation>Задержка на токен (ms)</translation>
    </message>
    <message>
        <source>Memory (MiB)</source>
        <translation>Память (MiB)</translation>
    </message>
    <message>
        <source>Power (W)</source>
        <translation>Мощность (W)</translation>
    </message>
    <message>
        <source>tokens/s</source>
        <translation>токенов/с</translation>
    </message>
    <message>
        <source>per token</source>
        <translation>на токен</translation>
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
        <translation>RSS процесса</translation>
    </message>
    <message>
        <source>GPU memory used</source>
        <translation>занятая память GPU</translation>
    </message>
    <message>
        <source>%1 (modeled)</source>
        <translation>%1 (оценка)</translation>
    </message>
    <message>
        <source>%1: not available — %2</source>
        <translation>%1: недоступно — %2</translation>
    </message>
    <message>
        <source>Power (W) — no sensor available</source>
        <translation>Мощность (W) — нет доступного датчика</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>Ожидание</translation>
    </message>
    <message>
        <source> · backend %1</source>
        <translation> · бэкенд %1</translation>
    </message>
    <message numerus="yes">
        <source>%n token(s)</source>
        <translation>
            <numerusform>%n токен</numerusform>
            <numerusform>%n токена</numerusform>
            <numerusform>%n токенов</numerusform>
        </translation>
    </message>
    <message>
        <source>p95 %1 ms · last %2 ms</source>
        <translation>p95 %1 ms · последний %2 ms</translation>
    </message>
    <message>
        <source>last reply</source>
        <translation>последний ответ</translation>
    </message>
    <message>
        <source>after the first reply</source>
        <translation>после первого ответа</translation>
    </message>
    <message>
        <source>peak %1</source>
        <translation>пик %1</translation>
    </message>
    <message>
        <source> · GPU %1 / %2</source>
        <translation> · GPU %1 / %2</translation>
    </message>
    <message>
        <source>modeled</source>
        <translation>оценка</translation>
    </message>
    <message>
        <source>measured</source>
        <translation>измерено</translation>
    </message>
    <message>
        <source>n/a</source>
        <translation>н/д</translation>
    </message>
    <message>
        <source>no power sensor available</source>
        <translation>нет датчика мощности</translation>
    </message>
    <message>
        <source>%1 tokens per joule</source>
        <translation>токенов на джоуль: %1</translation>
    </message>
    <message>
        <source>after a reply</source>
        <translation>после ответа</translation>
    </message>
    <message>
        <source>needs a power sensor</source>
        <translation>нужен датчик мощности</translation>
    </message>
    <message>
        <source>Export series as CSV</source>
        <translation>Экспорт данных в CSV</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>Файлы CSV (*.csv)</translation>
    </message>
    <message>
        <source>Export failed</source>
        <translation>Экспорт не удался</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>Не удалось записать %1: %2</translation>
    </message>
    <message>
        <source>Export view as PNG</source>
        <translation>Экспорт вида в PNG</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>Изображения PNG (*.png)</translation>
    </message>
    <message>
        <source>Could not write %1</source>
        <translation>Не удалось записать %1</translation>
    </message>
    <message>
        <source>device memory used</source>
        <translation>занятая память устройства</translation>
    </message>
    <message>
        <source>norm + quant</source>
        <translation>нормализация + квантование</translation>
    </message>
    <message>
        <source>BitLinear (fused)</source>
        <translation>BitLinear (слитно)</translation>
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
        <translation>метки времени GPU</translation>
    </message>
    <message>
        <source>CPU timers</source>
        <translation>таймеры ЦП</translation>
    </message>
    <message>
        <source>%1 backend</source>
        <translation>бэкенд %1</translation>
    </message>
    <message>
        <source>Time per stage per token (µs)</source>
        <translation>Время этапов на токен (мкс)</translation>
    </message>
    <message>
        <source>Time per stage per token (µs) — %1</source>
        <translation>Время этапов на токен (мкс) — %1</translation>
    </message>
    <message>
        <source>Last token: %1</source>
        <translation>Последний токен: %1</translation>
    </message>
    <message>
        <source>Per-stage times appear while a reply streams, on backends that measure them.</source>
        <translation>Время этапов появляется во время ответа на бэкендах, которые его измеряют.</translation>
    </message>
    <message>
        <source>The fused decode kernels run norm, quantization and the MLGRU inside the BitLinear dispatches; their time is counted there.</source>
        <translation>Слитые ядра декодирования выполняют нормализацию, квантование и MLGRU внутри вызовов BitLinear; их время учтено там.</translation>
    </message>
    <message>
        <source>Device memory (VK_EXT_memory_budget): %1 used / %2 budget</source>
        <translation>Память устройства (VK_EXT_memory_budget): занято %1 / бюджет %2</translation>
    </message>
    <message>
        <source>Device memory used / budget: not available on this device</source>
        <translation>Занятая память устройства / бюджет: недоступно на этом устройстве</translation>
    </message>
    <message>
        <source> · device %1 / %2 budget</source>
        <translation> · устройство %1 / бюджет %2</translation>
    </message>
    <message>
        <source>Streams and API traffic</source>
        <translation>Потоки и трафик API</translation>
    </message>
    <message>
        <source>chat streams</source>
        <translation>потоки чатов</translation>
    </message>
    <message>
        <source>API requests/s</source>
        <translation>запросов API/с</translation>
    </message>
    <message>
        <source>API in flight</source>
        <translation>API в работе</translation>
    </message>
    <message numerus="yes">
        <source>Generating: %n stream(s)</source>
        <translation>
            <numerusform>Генерация: потоков %n</numerusform>
            <numerusform>Генерация: потоков %n</numerusform>
            <numerusform>Генерация: потоков %n</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>all %n streams · per stream: see latency</source>
        <translation>
            <numerusform>все потоки (%n) · на поток: см. задержку</numerusform>
            <numerusform>все потоки (%n) · на поток: см. задержку</numerusform>
            <numerusform>все потоки (%n) · на поток: см. задержку</numerusform>
        </translation>
    </message>
    <message>
        <source>last reply: %1 tokens/s</source>
        <translation>последний ответ: %1 токенов/с</translation>
    </message>
</context>
<context>
    <name>EngineService</name>
    <message>
        <source>No model is loaded.</source>
        <translation>Модель не загружена.</translation>
    </message>
    <message>
        <source>cannot write %1</source>
        <translation>не удаётся записать %1</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Chat</source>
        <translation>Чат</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Модели</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Панель</translation>
    </message>
    <message>
        <source>&amp;New chat</source>
        <translation>&amp;Новый чат</translation>
    </message>
    <message>
        <source>&amp;Import conversation…</source>
        <translation>&amp;Импорт разговора…</translation>
    </message>
    <message>
        <source>Export as &amp;Markdown…</source>
        <translation>Экспорт в &amp;Markdown…</translation>
    </message>
    <message>
        <source>Export as &amp;JSON…</source>
        <translation>Экспорт в &amp;JSON…</translation>
    </message>
    <message>
        <source>Open &amp;model folder…</source>
        <translation>Открыть папку &amp;модели…</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>&amp;Параметры…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Выход</translation>
    </message>
    <message>
        <source>&amp;Search messages</source>
        <translation>&amp;Поиск сообщений</translation>
    </message>
    <message>
        <source>S&amp;top reply</source>
        <translation>&amp;Остановить ответ</translation>
    </message>
    <message>
        <source>&amp;Regenerate reply</source>
        <translation>Перегенери&amp;ровать ответ</translation>
    </message>
    <message>
        <source>Re&amp;name conversation</source>
        <translation>Переи&amp;меновать разговор</translation>
    </message>
    <message>
        <source>&amp;Delete conversation</source>
        <translation>&amp;Удалить разговор</translation>
    </message>
    <message>
        <source>Chat se&amp;ttings…</source>
        <translation>Настройки &amp;чата…</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>&amp;Чат</translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation>&amp;Модели</translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation>&amp;Панель</translation>
    </message>
    <message>
        <source>&amp;About MMfree Studio</source>
        <translation>&amp;О MMfree Studio</translation>
    </message>
    <message>
        <source>About MMfree Studio</source>
        <translation>О MMfree Studio</translation>
    </message>
    <message>
        <source>&lt;h3&gt;MMfree Studio %1&lt;/h3&gt;&lt;p&gt;Chat with MatMul-free language models on your own computer.&lt;/p&gt;&lt;p&gt;Apache License 2.0&lt;/p&gt;</source>
        <translation>&lt;h3&gt;MMfree Studio %1&lt;/h3&gt;&lt;p&gt;Общайтесь с языковыми моделями MatMul-free на своём компьютере.&lt;/p&gt;&lt;p&gt;Лицензия Apache 2.0&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Open model folder…</source>
        <translation>Открыть папку модели…</translation>
    </message>
    <message>
        <source>Reload model</source>
        <translation>Перезагрузить модель</translation>
    </message>
    <message>
        <source>Manage models</source>
        <translation>Управление моделями</translation>
    </message>
    <message>
        <source>MMfree Studio</source>
        <translation>MMfree Studio</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Вид</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Готово</translation>
    </message>
    <message>
        <source>First token %1 ms · %2 tokens/s · %3 tokens · %4</source>
        <translation>Первый токен %1 мс · %2 токенов/с · %3 токенов · %4</translation>
    </message>
    <message>
        <source>no backend</source>
        <translation>нет бэкенда</translation>
    </message>
    <message>
        <source>%1 · %2</source>
        <translation>%1 · %2</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>Загрузка модели…</translation>
    </message>
    <message>
        <source>Model failed to load</source>
        <translation>Модель не загрузилась</translation>
    </message>
    <message>
        <source>No model</source>
        <translation>Нет модели</translation>
    </message>
    <message>
        <source>%1
Backend: %2 — %3</source>
        <translation>%1
Бэкенд: %2 — %3</translation>
    </message>
    <message>
        <source>Choose a model folder</source>
        <translation>Выберите папку модели</translation>
    </message>
    <message>
        <source>New &amp;text (completion)</source>
        <translation>Новый &amp;текст (продолжение)</translation>
    </message>
    <message numerus="yes">
        <source>API %1 · %n request(s)</source>
        <translation>
            <numerusform>API %1 · запросов: %n</numerusform>
            <numerusform>API %1 · запросов: %n</numerusform>
            <numerusform>API %1 · запросов: %n</numerusform>
        </translation>
    </message>
    <message>
        <source>Local API server</source>
        <translation>Локальный API-сервер</translation>
    </message>
    <message>
        <source>The API server could not start: %1</source>
        <translation>Не удалось запустить API-сервер: %1</translation>
    </message>
    <message>
        <source>Packing %1 for instant switching…</source>
        <translation>Упаковка %1 для мгновенного переключения…</translation>
    </message>
    <message>
        <source>Could not pack %1: %2</source>
        <translation>Не удалось упаковать %1: %2</translation>
    </message>
</context>
<context>
    <name>MessageWidget</name>
    <message>
        <source>Copied</source>
        <translation>Скопировано</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Вы</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>Ассистент</translation>
    </message>
    <message>
        <source>System</source>
        <translation>Система</translation>
    </message>
    <message>
        <source>Copy the message</source>
        <translation>Копировать сообщение</translation>
    </message>
    <message>
        <source>Edit and resend</source>
        <translation>Изменить и отправить снова</translation>
    </message>
    <message>
        <source>Regenerate the reply</source>
        <translation>Перегенерировать ответ</translation>
    </message>
    <message>
        <source>Save and resend</source>
        <translation>Сохранить и отправить</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Отмена</translation>
    </message>
    <message>
        <source>writing…</source>
        <translation>пишет…</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>прервано</translation>
    </message>
</context>
<context>
    <name>ModelCatalog</name>
    <message>
        <source>available</source>
        <translation>доступна для скачивания</translation>
    </message>
    <message>
        <source>downloading</source>
        <translation>скачивается</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>приостановлена</translation>
    </message>
    <message>
        <source>installed</source>
        <translation>установлена</translation>
    </message>
    <message>
        <source>broken</source>
        <translation>повреждена</translation>
    </message>
    <message>
        <source>Demo model (built in)</source>
        <translation>Демо-модель (встроенная)</translation>
    </message>
    <message>
        <source>built in</source>
        <translation>встроенная</translation>
    </message>
    <message>
        <source>imported from %1</source>
        <translation>импортирована из %1</translation>
    </message>
    <message>
        <source>%1 no longer exists (moved or deleted?)</source>
        <translation>%1 больше нет (перемещено или удалено?)</translation>
    </message>
    <message>
        <source>downloading to %1</source>
        <translation>скачивается в %1</translation>
    </message>
    <message>
        <source>downloaded to %1</source>
        <translation>скачана в %1</translation>
    </message>
    <message>
        <source>partly downloaded to %1</source>
        <translation>частично скачана в %1</translation>
    </message>
    <message>
        <source>The download stopped at %1 of %2; resume to continue.</source>
        <translation>Скачивание остановилось на %1 из %2; нажмите «Возобновить», чтобы продолжить.</translation>
    </message>
    <message>
        <source>Hugging Face cache (%1), used in place</source>
        <translation>кэш Hugging Face (%1), используется на месте</translation>
    </message>
    <message>
        <source>%1 on disk</source>
        <translation>%1 на диске</translation>
    </message>
    <message>
        <source>%1 download</source>
        <translation>%1 для скачивания</translation>
    </message>
    <message>
        <source>≈ %1 download</source>
        <translation>≈ %1 для скачивания</translation>
    </message>
    <message>
        <source>size unknown</source>
        <translation>размер неизвестен</translation>
    </message>
    <message>
        <source>memory: not known yet</source>
        <translation>память: пока неизвестно</translation>
    </message>
    <message>
        <source>RAM %1 · GPU %2</source>
        <translation>ОЗУ %1 · GPU %2</translation>
    </message>
    <message>
        <source>"%1" is not a repository id; use the form owner/name, e.g. ridger/MMfreeLM-370M</source>
        <translation>«%1» — не идентификатор репозитория; используйте вид владелец/имя, например ridger/MMfreeLM-370M</translation>
    </message>
    <message>
        <source>This is a "%1" model, not a MatMul-free one; the engine cannot run it.</source>
        <translation>Это модель «%1», а не MatMul-free; движок не может её запустить.</translation>
    </message>
    <message>
        <source>%1 is not in the library</source>
        <translation>%1 нет в библиотеке</translation>
    </message>
    <message>
        <source>%1 is already on this computer</source>
        <translation>%1 уже есть на этом компьютере</translation>
    </message>
    <message>
        <source>%1 is already installed</source>
        <translation>Модель %1 уже установлена</translation>
    </message>
    <message>
        <source>The built-in demo model is part of the application and cannot be deleted.</source>
        <translation>Встроенная демо-модель — часть приложения, её нельзя удалить.</translation>
    </message>
    <message>
        <source>Removed %1 from the library; its files in %2 were left in place.</source>
        <translation>Модель %1 убрана из библиотеки; её файлы в %2 оставлены на месте.</translation>
    </message>
    <message>
        <source>Deleted %1 partly: %2 freed, %3 could not be removed from %4.</source>
        <translation>Модель %1 удалена частично: освобождено %2, %3 не удалось удалить из %4.</translation>
    </message>
    <message>
        <source>Deleted %1: %2 freed.</source>
        <translation>Модель %1 удалена: освобождено %2.</translation>
    </message>
    <message>
        <source>Deleted %1 from the Hugging Face cache: %2 freed.</source>
        <translation>Модель %1 удалена из кэша Hugging Face: освобождено %2.</translation>
    </message>
    <message>
        <source>Removed %1 from the library.</source>
        <translation>Модель %1 убрана из библиотеки.</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>ошибка</translation>
    </message>
    <message>
        <source>waiting to retry</source>
        <translation>ожидает повтора</translation>
    </message>
</context>
<context>
    <name>ModelSwitchBar</name>
    <message>
        <source>This conversation ran on %1.</source>
        <translation>Этот разговор шёл на модели %1.</translation>
    </message>
    <message>
        <source>This conversation ran on %1; %2 is loaded now.</source>
        <translation>Этот разговор шёл на модели %1; сейчас загружена %2.</translation>
    </message>
    <message>
        <source>Switch to %1</source>
        <translation>Переключиться на %1</translation>
    </message>
    <message>
        <source>Keep %1</source>
        <translation>Оставить %1</translation>
    </message>
    <message>
        <source>current</source>
        <translation>текущую</translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <source>in use</source>
        <translation>используется</translation>
    </message>
    <message>
        <source>%1 is downloaded and verified. Choose “Use this model” to chat with it.</source>
        <translation>Модель %1 скачана и проверена. Нажмите «Использовать эту модель», чтобы общаться с ней.</translation>
    </message>
    <message>
        <source>%1 was downloaded but does not check out: %2</source>
        <translation>Модель %1 скачана, но не прошла проверку: %2</translation>
    </message>
    <message>
        <source>Download of %1 stopped: %2</source>
        <translation>Скачивание %1 остановлено: %2</translation>
    </message>
    <message>
        <source>%1 was not added; these files have problems:
%2</source>
        <translation>Не удалось добавить %1; проблемы с файлами:
%2</translation>
    </message>
    <message>
        <source>Added %1.</source>
        <translation>Добавлено: %1.</translation>
    </message>
    <message>
        <source>Added %1, with notes:
%2</source>
        <translation>Добавлено: %1, с замечаниями:
%2</translation>
    </message>
    <message>
        <source>Search failed: %1</source>
        <translation>Поиск не удался: %1</translation>
    </message>
    <message>
        <source>No MatMul-free models matched.</source>
        <translation>Подходящих моделей MatMul-free не найдено.</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s) on the hub — double-click one to add it:</source>
        <translation>
            <numerusform>%n модель на Hub — дважды щёлкните, чтобы добавить:</numerusform>
            <numerusform>%n модели на Hub — дважды щёлкните, чтобы добавить:</numerusform>
            <numerusform>%n моделей на Hub — дважды щёлкните, чтобы добавить:</numerusform>
        </translation>
    </message>
    <message>
        <source>%1   ·   %2 downloads   ·   %3 likes</source>
        <translation>%1   ·   скачиваний: %2   ·   лайков: %3</translation>
    </message>
    <message>
        <source>Now chatting with %1.</source>
        <translation>Теперь вы общаетесь с %1.</translation>
    </message>
    <message>
        <source>Could not load %1: %2
%3 is still running.</source>
        <translation>Не удалось загрузить %1: %2
%3 продолжает работать.</translation>
    </message>
    <message>
        <source>Could not load %1: %2</source>
        <translation>Не удалось загрузить %1: %2</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Модели</translation>
    </message>
    <message>
        <source>Search the Hugging Face Hub for MatMul-free (hgrn_bit) models</source>
        <translation>Поиск моделей MatMul-free (hgrn_bit) на Hugging Face Hub</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Найти</translation>
    </message>
    <message>
        <source>owner/name, e.g. ridger/MMfreeLM-2.7B</source>
        <translation>владелец/имя, например ridger/MMfreeLM-2.7B</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Добавить</translation>
    </message>
    <message>
        <source>Import folder…</source>
        <translation>Импорт папки…</translation>
    </message>
    <message>
        <source>Import file…</source>
        <translation>Импорт файла…</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>Скачать</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Приостановить</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Возобновить</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>Отменить скачивание</translation>
    </message>
    <message>
        <source>Use this model</source>
        <translation>Использовать эту модель</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>Удалить</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>Модель не загружена.</translation>
    </message>
    <message>
        <source>Current model: %1 — %2 on %3</source>
        <translation>Текущая модель: %1 — %2 на %3</translation>
    </message>
    <message>
        <source>Loading %1 …</source>
        <translation>Загрузка %1 …</translation>
    </message>
    <message>
        <source>Choose a model on the left.</source>
        <translation>Выберите модель слева.</translation>
    </message>
    <message>
        <source>This model has no usable tokenizer, so it cannot chat.</source>
        <translation>У этой модели нет пригодного токенизатора, поэтому общаться с ней нельзя.</translation>
    </message>
    <message>
        <source>This model is running now.</source>
        <translation>Эта модель уже работает.</translation>
    </message>
    <message>
        <source>Switch to another model before deleting this one.</source>
        <translation>Прежде чем удалить эту модель, переключитесь на другую.</translation>
    </message>
    <message>
        <source>State: %1</source>
        <translation>Состояние: %1</translation>
    </message>
    <message>
        <source>%1 parameters</source>
        <translation>Параметров: %1</translation>
    </message>
    <message>
        <source>Memory on CPU: %1 · on GPU: %2</source>
        <translation>Память на CPU: %1 · на GPU: %2</translation>
    </message>
    <message>
        <source>(ternary weights %1 at 2 bits each, embeddings %2 in fp32, state %3 per conversation)</source>
        <translation>(тернарные веса %1 по 2 бита, эмбеддинги %2 в fp32, состояние %3 на разговор)</translation>
    </message>
    <message>
        <source>Searching the hub …</source>
        <translation>Поиск на Hub …</translation>
    </message>
    <message>
        <source>Checking %1 …</source>
        <translation>Проверка %1 …</translation>
    </message>
    <message>
        <source>Import a model folder</source>
        <translation>Импорт папки модели</translation>
    </message>
    <message>
        <source>Import a packed model file</source>
        <translation>Импорт упакованного файла модели</translation>
    </message>
    <message>
        <source>Packed models (*.gguf);;All files (*)</source>
        <translation>Упакованные модели (*.gguf);;Все файлы (*)</translation>
    </message>
    <message>
        <source>%1 is running; switch to another model before deleting it.</source>
        <translation>Модель %1 работает; перед удалением переключитесь на другую.</translation>
    </message>
    <message>
        <source>Delete %1 and free %2 of disk space?</source>
        <translation>Удалить %1 и освободить %2 на диске?</translation>
    </message>
    <message>
        <source>Remove %1 from the library? Its files stay where they are.</source>
        <translation>Убрать модель %1 из библиотеки? Её файлы останутся на месте.</translation>
    </message>
    <message>
        <source>Delete model</source>
        <translation>Удаление модели</translation>
    </message>
    <message>
        <source>Removed the packed copy of %1 (%2 freed); the next use packs it again.</source>
        <translation>Упакованная копия %1 удалена (освобождено %2); при следующем использовании она будет создана снова.</translation>
    </message>
    <message>
        <source>Remove packed copy</source>
        <translation>Удалить упакованную копию</translation>
    </message>
    <message>
        <source>Packed copy for instant switching: %1</source>
        <translation>Упакованная копия для мгновенного переключения: %1</translation>
    </message>
    <message>
        <source>Not packed yet: the first use packs it, later switches load the pack.</source>
        <translation>Ещё не упакована: первое использование упакует её, дальше переключение загружает упаковку.</translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <source>Preferences</source>
        <translation>Параметры</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Язык</translation>
    </message>
    <message>
        <source>Automatic (GPU when one works, else CPU)</source>
        <translation>Автоматически (GPU, если работает, иначе CPU)</translation>
    </message>
    <message>
        <source>%1 (unavailable: %2)</source>
        <translation>%1 (недоступно: %2)</translation>
    </message>
    <message>
        <source>Compute backend</source>
        <translation>Вычислительный бэкенд</translation>
    </message>
    <message>
        <source>Local API server (OpenAI-compatible)</source>
        <translation>Локальный API-сервер (совместим с OpenAI)</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Порт</translation>
    </message>
    <message>
        <source>This computer only (127.0.0.1)</source>
        <translation>Только этот компьютер (127.0.0.1)</translation>
    </message>
    <message>
        <source>All network interfaces (other computers; needs the API key)</source>
        <translation>Все сетевые интерфейсы (другие компьютеры; нужен API-ключ)</translation>
    </message>
    <message>
        <source>Listen on</source>
        <translation>Слушать</translation>
    </message>
    <message>
        <source>none (loopback only)</source>
        <translation>нет (только локально)</translation>
    </message>
    <message>
        <source>New key</source>
        <translation>Новый ключ</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>Копировать</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API-ключ</translation>
    </message>
    <message>
        <source>One origin per line, e.g. http://localhost:3000 (empty: no browser access)</source>
        <translation>Один источник в строке, например http://localhost:3000 (пусто — без доступа из браузера)</translation>
    </message>
    <message>
        <source>Allowed CORS origins</source>
        <translation>Разрешённые источники CORS</translation>
    </message>
    <message>
        <source>Serves the loaded model at http://%1:%2/v1</source>
        <translation>Отдаёт загруженную модель по адресу http://%1:%2/v1</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>Выключен</translation>
    </message>
    <message>
        <source>Running now at %1</source>
        <translation>Работает: %1</translation>
    </message>
    <message>
        <source>Last start failed: %1</source>
        <translation>Последний запуск не удался: %1</translation>
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