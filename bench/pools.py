# ruff: noqa: RUF001  (the pools hold Cyrillic, Greek and Hebrew letters on purpose)
"""Word pools the generator draws customer profiles and agent calls from.

Pools are ordered from most to least common, because the generator weights them by rank
(a Zipf-like skew), so that "John Smith" or "Maria Garcia" repeat thousands of times at full scale.
"""

FIRST_NAMES = (
    "John", "Maria", "David", "Michael", "James", "Jennifer", "Robert", "Linda", "William",
    "Elizabeth", "Mary", "Daniel", "Sarah", "Thomas", "Jessica", "Joseph", "Karen", "Charles",
    "Nancy", "Christopher", "Lisa", "Anthony", "Emma", "Mark", "Olivia", "Paul", "Sophia", "Steven",
    "Anna", "Andrew", "Laura", "Kevin", "Emily", "Brian", "Julia", "George", "Hannah", "Edward",
    "Chloe", "Ahmed", "Fatima", "Mohammed", "Aisha", "Priya", "Rahul", "Ananya", "Arjun", "Wei",
    "Li", "Hiroshi", "Yuki", "Sven", "Ingrid", "Lars", "Astrid", "Pierre", "Camille", "Luca",
    "Giulia", "Carlos", "Lucía", "José", "Sofía", "Mateo", "Valentina", "Jürgen", "Zoë",
    "François", "Björn", "Łukasz", "Agnieszka", "Søren", "Ólafur", "Dmitri", "Olga", "Ivan",
    "Natalia", "Kwame", "Amara", "Chidi", "Ngozi", "Tomás", "Renée", "Noémie", "Mikael", "Aino",
    "Hamza", "Leila", "Omar", "Yasmin", "Kenji", "Sakura", "Min-jun", "Seo-yeon", "Thanh", "Linh",
)  # fmt: skip

LAST_NAMES = (
    "Smith", "Johnson", "Garcia", "Williams", "Brown", "Jones", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson",
    "Martin", "Lee", "Doe", "Nguyen", "Patel", "Kim", "Müller", "Schmidt", "Schneider", "Fischer",
    "Weber", "Rossi", "Russo", "Ferrari", "Dubois", "Lefèvre", "Moreau", "Kowalski", "Nowak",
    "Wójcik", "Ivanov", "Petrov", "Sokolov", "Jensen", "Nielsen", "Hansen", "Johansson",
    "Andersson", "Larsen", "Virtanen", "Korhonen", "Sato", "Suzuki", "Takahashi", "Tanaka", "Wang",
    "Zhang", "Chen", "Liu", "Singh", "Kumar", "Sharma", "Gupta", "Khan", "Ali", "Hassan", "Ibrahim",
    "Okafor", "Mensah", "Adeyemi", "da Silva", "Santos", "Oliveira", "Pereira", "Costa", "O'Brien",
    "O'Connor", "McDonald", "MacLeod", "van der Berg", "de Vries", "Jansen", "Novák", "Horváth",
    "Papadopoulos", "Yılmaz", "Kaya", "Cohen", "Levi", "Fernández", "González", "Sánchez",
    "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Cruz", "Morales", "Ortiz",
)  # fmt: skip

# Names written in a non-Latin script, each with the romanized form its owner uses in an email.
NATIVE_NAMES = (
    ("王伟", "wang.wei"), ("李娜", "li.na"), ("张伟", "zhang.wei"), ("王芳", "wang.fang"),
    ("刘洋", "liu.yang"), ("陈静", "chen.jing"), ("杨磊", "yang.lei"), ("赵敏", "zhao.min"),
    ("佐藤健", "sato.ken"), ("鈴木一郎", "suzuki.ichiro"), ("高橋美咲", "takahashi.misaki"),
    ("田中花子", "tanaka.hanako"), ("김민준", "kim.minjun"), ("이서연", "lee.seoyeon"),
    ("박지훈", "park.jihoon"), ("Иван Петров", "ivan.petrov"), ("Ольга Смирнова", "olga.smirnova"),
    ("Дмитрий Иванов", "dmitry.ivanov"), ("Анна Кузнецова", "anna.kuznetsova"),
    ("Γιώργος Παπαδόπουλος", "giorgos.papadopoulos"), ("Ελένη Νικολάου", "eleni.nikolaou"),
    ("محمد أحمد", "mohamed.ahmed"), ("فاطمة علي", "fatima.ali"), ("יוסי כהן", "yossi.cohen"),
    ("राहुल शर्मा", "rahul.sharma"), ("प्रिया पटेल", "priya.patel"), ("สมชาย ใจดี", "somchai.jaidee"),
    ("Nguyễn Văn An", "nguyen.van.an"), ("Trần Thị Bình", "tran.thi.binh"),
)  # fmt: skip

# Companies a customer works for, the most common first. Some are written in a non-Latin script.
COMPANY_NAMES = (
    "Acme Corp", "Globex Corporation", "Initech", "Umbrella Corporation", "Hooli",
    "Stark Industries", "Wayne Enterprises", "Pied Piper", "Soylent Corp", "Cyberdyne Systems",
    "Wonka Industries",
    "Tyrell Corporation", "Massive Dynamic", "Vandelay Industries", "Dunder Mifflin",
    "Northwind Traders", "Contoso Ltd", "Fabrikam Inc", "Adventure Works", "Litware Inc",
    "Tailspin Toys", "Wide World Importers", "Blue Yonder Airlines", "Proseware Inc",
    "Gringotts Bank", "Oceanic Airlines", "Monsters Inc", "Aperture Science", "Black Mesa",
    "Oscorp", "Weyland-Yutani", "Nakatomi Trading", "Sirius Cybernetics", "Rekall Inc",
    "Bluth Company", "Prestige Worldwide", "Sterling Cooper", "Los Pollos Hermanos", "Gekko & Co",
    "Kruger Analytik GmbH", "Société Lumière SA", "Nordlicht AB", "Fjord Data AS",
    "Sakura Systems KK",
    "Tata Cloud Pvt Ltd", "Pampas Digital SRL", "Maple Leaf Robotics", "Kangaroo Logistics Pty",
    "Zenith Health", "Quantum Leap Labs", "Blue River Analytics", "Silver Birch Software",
    "Red Rock Mining", "Golden Gate Finance", "Iron Oak Security", "Crystal Lake Media",
    "北京云智科技有限公司", "上海数据服务有限公司", "株式会社さくらデータ", "ООО Ромашка",
    "ООО Северный Ветер", "삼성테크 주식회사", "Ωμέγα Λύσεις ΑΕ",
)  # fmt: skip

FREE_MAIL_DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "proton.me",
    "gmx.de", "yandex.ru", "qq.com", "naver.com", "web.de", "mail.com",
)  # fmt: skip

PLUS_TAGS = ("trial", "helpdesk", "work", "ai", "billing", "test")

# Telephone numbers per country: the E.164 country code, a national number pattern (# is a
# random digit) and the written forms customers type, built from the national significant number.
PHONE_PLANS = (
    ("1", "415#######", ("+1 (%a) %b-%c", "%a-%b-%c", "(%a) %b %c", "+1%a%b%c", "%a.%b.%c",
                         "1-%a-%b-%c")),
    ("1", "212#######", ("+1 (%a) %b-%c", "%a-%b-%c", "+1.%a.%b.%c")),
    ("1", "312#######", ("+1 %a %b %c", "(%a) %b-%c")),
    ("1", "617#######", ("+1-%a-%b-%c", "%a%b%c")),
    ("44", "2079######", ("+44 %n", "+44 (0)%n", "0044 %n")),
    ("49", "30########", ("+49 %n", "+49 (0)%n")),
    ("91", "98########", ("+91 %n", "+91-%n")),
    ("81", "3########", ("+81 %n", "+81-%n")),
    ("33", "1########", ("+33 %n", "+33 (0)%n")),
    ("55", "119########", ("+55 %n",)),
    ("86", "138########", ("+86 %n",)),
    ("7", "495#######", ("+7 %n", "8 %n")),
)  # fmt: skip

PLANS = ("free", "starter", "premium", "enterprise")

STEP_NAMES = (
    "provision_workspace", "validate_config", "connect_sources", "load_documents",
    "chunk_documents", "embed_documents", "build_index", "retrieve_context", "plan_workflow",
    "call_tools", "draft_answer", "review_answer", "cache_results", "sync_domain",
    "publish_results", "notify_customer", "collect_feedback", "evaluate_quality", "archive_run",
    "close_trial",
)  # fmt: skip

AGENT_NAMES = ("WowOrchestrator", "WowMemory", "WowAPI", "WowCache", "WowDomain")

# Share of all interactions each agent handles, in AGENT_NAMES order.
AGENT_SHARES = (0.30, 0.25, 0.20, 0.15, 0.10)

AGENT_OPERATIONS = {
    "WowOrchestrator": ("plan_step", "dispatch_task", "advance_workflow", "collect_results"),
    "WowMemory": ("store_context", "retrieve_context", "summarize_history", "forget_context"),
    "WowAPI": ("handle_request", "validate_payload", "call_webhook", "render_response"),
    "WowCache": ("get", "set", "invalidate", "warm"),
    "WowDomain": ("classify_intent", "extract_entities", "apply_rules", "lookup_catalog"),
}

# (error.type, message) pairs for failed calls. Types ending in Timeout or TimeoutError make the
# interaction a timeout rather than a plain failure.
FAILURES = (
    ("ConnectionError", "Connection refused by upstream service"),
    ("RateLimitError", "Rate limit exceeded: 429 Too Many Requests"),
    ("ValidationError", "Invalid context payload: missing field 'session_id'"),
    ("KeyError", "KeyError: 'embedding'"),
    ("PoolExhaustedError", "Database connection pool exhausted (100/100)"),
)
TIMEOUTS = (
    ("TimeoutError", "Database connection timeout after 30s"),
    ("ReadTimeout", "Upstream read timed out after 10s"),
    ("GatewayTimeout", "504 Gateway Timeout from model provider"),
)
