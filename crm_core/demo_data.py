"""Deterministic, realistic demo records in the exchange format (standard library only)."""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from crm_core.stages import DEFAULT_STAGES
from crm_core.text import name_key

# A fixed "now" so the same arguments give the same file on any day (tests, benchmarks).
REFERENCE_NOW = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)


# Real customer-care summaries (TweetSumm, CC0) beside the checkout: ../shared/data/tweetsumm.
TWEETSUMM = Path(__file__).resolve().parents[2] / "shared" / "data" / "tweetsumm"


def tweetsumm_issues(folder: Path = TWEETSUMM) -> list[tuple[str, str]]:
    """(customer's problem, agent's answer) from each conversation's first abstractive summary.

    Empty when the folder is missing: the demo then has no tickets rather than made-up ones.
    """
    out: list[tuple[str, str]] = []
    for path in sorted(folder.glob("final_*_tweetsum.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            for note in record.get("annotations", []):
                summary = [s.strip() for s in note.get("abstractive") or [] if s and s.strip()]
                if len(summary) >= 2:
                    out.append((summary[0][:300], summary[1]))
                    break
    return out


def day_start(day: date) -> datetime:
    """The demo's "now" for a given day: that morning, so one seed and day give one file."""
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


CUSTOMERS_PER_REP = 40
REPS_PER_TEAM = 8
YEAR = timedelta(days=365)

_OPEN = [s.name for s in DEFAULT_STAGES if not s.closed]
_WON = next(s.name for s in DEFAULT_STAGES if s.won)
_LOST = next(s.name for s in DEFAULT_STAGES if s.lost)
_STAGE_WEIGHTS = {**dict(zip(_OPEN, (18, 16, 14, 10), strict=False)), _WON: 24, _LOST: 18}

# ---------------------------------------------------------------------------------------------
# Word lists

_TEAM_NAMES = [
    "Sales East", "Sales West", "Sales North", "Sales South", "Enterprise", "Mid-Market",
    "Public Sector", "Channel Partners", "APAC", "EMEA", "LATAM", "Strategic Accounts", "SMB",
    "Healthcare Vertical", "Retail Vertical", "Manufacturing Vertical", "Inside Sales",
    "Renewals",
]  # fmt: skip

# (external_id, name, role, team index or None, timezone, locale)
_NAMED_STAFF = [
    ("alice", "Alice Chen", "rep", 0, "America/New_York", "en"),
    ("bob", "Bob Martin", "manager", 0, "America/New_York", "en"),
    ("carol", "Carol Diaz", "rep", 0, "America/Chicago", "en"),
    ("dave", "Dave Okafor", "rep", 1, "Europe/London", "en"),
    ("erin", "Erin Walsh", "manager", 1, "Europe/London", "en"),
    ("wei", "Wang Wei", "rep", 0, "Asia/Shanghai", "zh"),
    ("admin", "Admin", "admin", None, "UTC", "en"),
]
_STAFF_TIMEZONES = [
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
    "Europe/London", "Europe/Berlin", "Europe/Madrid", "Asia/Singapore", "Australia/Sydney",
]  # fmt: skip

_FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Sandra", "Steven", "Ashley", "Paul", "Kimberly", "Andrew", "Emily", "Joshua", "Donna",
    "Kevin", "Michelle", "Brian", "Carol", "George", "Amanda", "Timothy", "Melissa", "Ronald",
    "Deborah", "Jason", "Stephanie", "Ryan", "Rebecca", "Jacob", "Laura", "Gary", "Sharon",
    "Nicholas", "Cynthia", "Eric", "Kathleen", "Priya", "Rahul", "Sofia", "Lucas", "Amara",
    "Kenji", "Ingrid", "Mateo", "Fatima", "Olga", "Tomasz", "Aisha",
]  # fmt: skip
_LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kowalski", "Schmidt",
    "Rossi", "Dubois", "Tanaka", "Okafor", "Johansson", "Novak", "O'Brien",
]  # fmt: skip

_INDUSTRIES: dict[str, list[str]] = {
    "Logistics": ["Logistics", "Freight", "Shipping", "Transport", "Cargo", "Express"],
    "Manufacturing": [
        "Manufacturing", "Industries", "Fabrication", "Machine Works", "Components", "Tooling",
    ],
    "Retail": ["Retail", "Stores", "Outfitters", "Market", "Goods", "Home & Garden"],
    "Food & Beverage": ["Foods", "Beverages", "Bakery", "Farms", "Provisions", "Brewing"],
    "Healthcare": ["Health", "Medical", "Clinics", "Pharma", "Diagnostics", "Care"],
    "Construction": ["Construction", "Builders", "Contractors", "Materials", "Concrete", "Steel"],
    "Energy": ["Energy", "Power", "Solar", "Utilities", "Fuels", "Wind"],
    "Technology": ["Systems", "Software", "Labs", "Networks", "Digital", "Technologies"],
    "Wholesale": ["Distribution", "Supply", "Wholesale", "Imports", "Traders", "Depot"],
    "Automotive": ["Motors", "Auto Parts", "Automotive", "Fleet Services", "Tires", "Garages"],
    "Agriculture": ["Agri", "Growers", "Seeds", "Produce", "Harvest", "Orchards"],
}  # fmt: skip
_COMPANY_WORDS = [
    "Acme", "Northwind", "Summit", "Pioneer", "Redwood", "Silverline", "Blue Harbor", "Granite",
    "Evergreen", "Ironbridge", "Lakeside", "Oakmont", "Riverbend", "Sterling", "Cascade",
    "Horizon", "Keystone", "Liberty", "Meridian", "Pinnacle", "Prairie", "Quantum", "Beacon",
    "Coastal", "Crescent", "Falcon", "Harbor Point", "Highland", "Juniper", "Maple Leaf",
    "Northstar", "Orion", "Pacific Rim", "Red Rock", "Sequoia", "Sierra", "Skyline", "Stonegate",
    "Sunrise", "Tidewater", "Trident", "Vanguard", "Westfield", "Wildflower", "Windmill", "Atlas",
    "Apex", "Bluebird", "Cardinal", "Copper Creek", "Delta", "Eastgate", "Frontier", "Greenfield",
    "Heritage", "Kingfisher", "Lighthouse", "Magnolia", "Nova", "Old Mill", "Parkside", "Quarry",
    "Rainier", "Saddleback", "Thunderbird", "Union Square", "Valley", "Willow", "Zenith",
    "Anchor", "Birch", "Canyon", "Driftwood", "Foxhill", "Glacier", "Hawthorne", "Ironwood",
    "Jetstream", "Kestrel", "Lone Pine", "Mesa", "Northgate", "Osprey", "Quail Ridge",
]  # fmt: skip
_LEGAL = ["", "", "", " Inc.", " LLC", " Ltd", " Corp.", " Co.", " GmbH", " Group"]
# (city, phone prefix); "555" numbers are reserved for fiction in North America.
_CITIES = [
    ("New York", "+1 212 555"), ("Chicago", "+1 312 555"), ("Houston", "+1 713 555"),
    ("Atlanta", "+1 404 555"), ("Denver", "+1 303 555"), ("Seattle", "+1 206 555"),
    ("San Francisco", "+1 415 555"), ("Boston", "+1 617 555"), ("Dallas", "+1 214 555"),
    ("Phoenix", "+1 602 555"), ("Toronto", "+1 416 555"), ("London", "+44 20 7946"),
    ("Manchester", "+44 161 496"), ("Berlin", "+49 30 901"), ("Hamburg", "+49 40 822"),
    ("Rotterdam", "+31 10 744"), ("Paris", "+33 1 4455"), ("Madrid", "+34 91 555"),
    ("Milan", "+39 02 5550"), ("Singapore", "+65 6555"), ("Sydney", "+61 2 5550"),
    ("Dublin", "+353 1 555"), ("Stockholm", "+46 8 555"),
]  # fmt: skip
_CURRENCY_BY_CITY = {
    "London": "GBP", "Manchester": "GBP", "Berlin": "EUR", "Hamburg": "EUR", "Rotterdam": "EUR",
    "Paris": "EUR", "Madrid": "EUR", "Milan": "EUR", "Dublin": "EUR", "Toronto": "CAD",
    "Singapore": "SGD", "Sydney": "AUD", "Stockholm": "SEK",
}  # fmt: skip
_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "C$", "SGD": "S$", "AUD": "A$", "SEK": "kr "}
_TAGS = ["vip", "renewal", "partner", "strategic", "at-risk", "new-logo", "referral", "pilot"]
_TITLES = [
    "Head of Procurement", "Procurement Manager", "CFO", "Finance Director", "Operations Manager",
    "VP Operations", "IT Director", "CTO", "Logistics Manager", "Warehouse Manager",
    "General Counsel", "CEO", "COO", "Supply Chain Director", "Purchasing Lead", "Fleet Manager",
]  # fmt: skip
_DECIDERS = ["CFO", "COO", "CEO", "VP of Operations", "IT director", "head of procurement"]
_PRODUCTS = [
    "fleet tracking", "warehouse scanners", "route optimisation", "cold-chain sensors",
    "analytics dashboard", "inventory API", "driver app", "dock scheduling", "yard management",
    "label printers", "premium support", "training package", "data migration", "ERP connector",
]  # fmt: skip
_COMPETITORS = [
    "Contoso",
    "Fabrikam",
    "Tailspin Systems",
    "Litware",
    "Proseware",
    "Adatum",
    "Woodgrove",
]
_LOST_REASONS = [
    "Went with {competitor} on price", "Budget frozen until next fiscal year",
    "No decision; project shelved", "Decided to build it in-house", "Failed the security review",
    "Timing: merger in progress", "Our champion left the company", "Chose {competitor}",
    "Scope cut to a size we do not serve",
]  # fmt: skip
_STAGE_REASONS = {
    "qualified": ["Budget and need confirmed", "Discovery call done"],
    "proposal": ["Proposal sent", "Quote sent"],
    "negotiation": ["Negotiating terms", "Verbal yes; working on the contract"],
    "won": ["Contract signed", "PO received"],
}
_DEAL_TITLES = [
    "{Product} rollout", "{Product} pilot", "{year} renewal", "{Product} expansion ({qty} seats)",
    "{Product} upgrade", "Annual support contract", "{Product} for the {city} site",
    "{Product} phase {n}", "Replace legacy {product}",
]  # fmt: skip

# Chinese: (characters, pinyin) so contacts get plausible e-mail addresses.
_ZH_PREFIXES = [
    ("华东", "huadong"), ("华南", "huanan"), ("恒信", "hengxin"), ("新宇", "xinyu"),
    ("金桥", "jinqiao"), ("瑞丰", "ruifeng"), ("东方", "dongfang"), ("长江", "changjiang"),
    ("中科", "zhongke"), ("海川", "haichuan"), ("天成", "tiancheng"), ("宏达", "hongda"),
    ("永盛", "yongsheng"), ("佳禾", "jiahe"), ("安达", "anda"), ("鼎新", "dingxin"),
    ("博远", "boyuan"), ("信达", "xinda"), ("汇通", "huitong"), ("顺和", "shunhe"),
    ("凯德", "kaide"), ("联创", "lianchuang"), ("泰和", "taihe"), ("华信", "huaxin"),
    ("远航", "yuanhang"), ("卓越", "zhuoyue"), ("明辉", "minghui"), ("嘉诚", "jiacheng"),
    ("盛世", "shengshi"), ("通达", "tongda"), ("正源", "zhengyuan"), ("立信", "lixin"),
    ("荣昌", "rongchang"), ("万顺", "wanshun"), ("广源", "guangyuan"), ("和信", "hexin"),
    ("锦程", "jincheng"), ("恒通", "hengtong"), ("瑞达", "ruida"), ("同创", "tongchuang"),
]  # fmt: skip
_ZH_INDUSTRIES = [
    ("物流", "Logistics"), ("运输", "Logistics"), ("供应链", "Logistics"),
    ("机械", "Manufacturing"), ("制造", "Manufacturing"), ("电子", "Technology"),
    ("科技", "Technology"), ("软件", "Technology"), ("医药", "Healthcare"),
    ("食品", "Food & Beverage"), ("建材", "Construction"), ("能源", "Energy"),
    ("贸易", "Wholesale"), ("汽车配件", "Automotive"), ("农业", "Agriculture"),
    ("商贸", "Retail"),
]  # fmt: skip
_ZH_SUFFIXES = ["有限公司"] * 6 + ["股份有限公司"] * 2 + ["集团", "有限责任公司"]
_ZH_CITIES = [
    ("上海", "shanghai"), ("北京", "beijing"), ("深圳", "shenzhen"), ("广州", "guangzhou"),
    ("杭州", "hangzhou"), ("苏州", "suzhou"), ("成都", "chengdu"), ("武汉", "wuhan"),
    ("南京", "nanjing"), ("天津", "tianjin"), ("重庆", "chongqing"), ("西安", "xian"),
    ("青岛", "qingdao"), ("宁波", "ningbo"), ("厦门", "xiamen"),
]  # fmt: skip
_ZH_SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"),
]  # fmt: skip
_ZH_GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
    ("强", "qiang"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"), ("杰", "jie"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("霞", "xia"), ("建国", "jianguo"),
    ("晓明", "xiaoming"), ("志强", "zhiqiang"), ("海燕", "haiyan"), ("丽娟", "lijuan"),
]  # fmt: skip
_ZH_TITLES = [
    "采购经理", "采购总监", "总经理", "副总经理", "财务总监", "运营经理", "信息部主管", "物流经理",
    "仓储主管", "法务经理", "供应链总监", "技术负责人",
]  # fmt: skip
_ZH_HONORIFIC = ["经理", "总", "主任", "工"]
_ZH_DECIDERS = ["财务总监", "总经理", "运营副总", "信息部负责人", "采购总监"]
_ZH_PRODUCTS = [
    "车队管理系统", "仓储扫描设备", "路线优化", "冷链传感器", "数据分析平台", "库存接口",
    "司机端应用", "月台预约系统", "技术支持服务", "培训服务", "数据迁移", "ERP对接",
]  # fmt: skip
_ZH_COMPETITORS = ["万通科技", "云帆软件", "迅达物联", "安捷信息", "智行科技"]
_ZH_LOST_REASONS = [
    "价格高于{competitor}", "预算冻结", "选择了{competitor}", "项目搁置", "决定自主研发",
    "安全评审未通过", "对接人离职",
]  # fmt: skip
_ZH_STAGE_REASONS = {
    "qualified": ["需求和预算已确认"],
    "proposal": ["已发送方案和报价"],
    "negotiation": ["进入商务谈判"],
    "won": ["合同已签", "已收到采购单"],
}
_ZH_DEAL_TITLES = [
    "{product}采购", "{product}试点项目", "{year}年度续约", "{product}扩容（{qty}个账号）",
    "{product}升级", "{product}二期", "{city}仓{product}项目",
]  # fmt: skip
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_ZH_WEEKDAYS = ["周一", "周二", "周三", "周四", "周五"]
_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Note templates: an opener by kind, one or two topics, and often a next step.

_OPENERS = {
    "call": [
        "Call with {contact}.", "Called {contact}.", "Phone call with {contact}, {minutes} min.",
    ],
    "meeting": [
        "Meeting with {contact} and team.", "Video meeting with {contact}.",
        "Met {contact} and the {decider}.",
    ],
    "visit": ["On-site visit in {city}.", "Visited {contact} at their office.", "Site visit."],
    "email": ["Email from {contact}.", "Emailed {contact}.", "{contact} replied by email."],
    "chat": ["Chat with {contact}.", "Messaged {contact}.", "Quick chat with {contact}."],
    "note": ["Note:", "Internal note:", "FYI:"],
}  # fmt: skip
_TOPICS = [
    # pricing
    "{contact} asked for a volume price on {qty} units; I quoted {amount} and they want a "
    "breakdown by site.",
    "Walked {contact} through the pricing tiers. They think the per-seat price is high "
    "compared to {competitor}.",
    "Price objection again: finance wants the total under {amount} for this fiscal year.",
    "Sent the revised quote ({amount}, {percent}% off list). {contact} will take it to the "
    "{decider}.",
    # discounts
    "They asked for {percent}% off if they sign before the end of {quarter}. Needs manager "
    "approval.",
    "Offered {percent}% off the first year in exchange for a {years}-year term.",
    "{contact} pushed for free onboarding; agreed to include training if they commit by {date}.",
    # legal review
    "Contract is with their legal team. Redlines expected by {date}; the main issue is the "
    "liability cap.",
    "Legal came back with comments on the data processing terms and the termination clause.",
    "MSA signed; the order form still needs a signature from the {decider}.",
    # security review
    "Security questionnaire received ({qty} questions). They need our SOC 2 report and the pen "
    "test summary.",
    "IT asked about SSO, data residency and encryption at rest. Sent the security whitepaper.",
    "Security review passed with two minor follow-ups on password policy.",
    # competitors
    "They are also evaluating {competitor}. Our edge is the integration with their ERP.",
    "{competitor} came in {percent}% cheaper, but {contact} admits their support is weak.",
    "The incumbent is {competitor}; their contract ends in {quarter}, a good window for us.",
    # delivery issues
    "Complaint: the last shipment of {product} arrived {days} days late. Opened a ticket with ops.",
    "{qty} devices arrived damaged; replacement promised by {date}.",
    "Installation at the {city} site slipped a week because of their network setup.",
    "The driver app crashes on older Android phones; forwarded the logs to support.",
    # renewals
    "Renewal due {date}. Usage is up {percent}%, so they are open to adding seats.",
    "They want to renew for {years} years if we hold this year's price.",
    "At-risk renewal: adoption is low at two of their sites. Proposed a training day.",
    # decision makers
    "The decision sits with the {decider}; {contact} is our champion but cannot sign.",
    "A new {decider} started last month and is reviewing all vendor contracts.",
    "Met the buying committee: the {decider}, IT and operations. Operations is our strongest "
    "supporter.",
    # product and value
    "Demo of {product} for {qty} people from operations. Good questions about reporting.",
    "Saw the manual process at their {city} warehouse that {product} would replace.",
    "Quarterly business review: {product} usage is steady; two feature requests logged.",
    "Pilot results look good: {percent}% fewer manual entries in the first month.",
    "Reference call arranged with one of our customers in {industry}.",
    # budget and timing
    "Budget approved for {quarter}; their PO process takes about {weeks} weeks.",
    "Project on hold until the new fiscal year starts in {month}.",
    "They need to go live before {date} for peak season.",
    "Invoice {invoice} is {days} days overdue; finance says payment goes out this week.",
    # no contact
    "Left a voicemail for {contact}; no answer on the mobile either.",
    "{contact} needs the proposal in their own template.",
    "{contact} is on leave until {date}; their deputy is handling {product}.",
]
_NEXT_STEPS = [
    "Next step: send the revised proposal by {weekday}.",
    "Follow up on {date}.",
    "Next: call with their {decider} on {weekday}.",
    "Action: get approval for the {percent}% discount.",
    "Will send a draft order form tomorrow.",
    "Agreed to meet again in {weeks} weeks.",
    "Next step: technical workshop with IT on {date}.",
    "Waiting for their PO.",
    "To do: share a case study and an ROI estimate.",
    "Loop in solutions engineering before the next call.",
]
_ZH_OPENERS = {
    "call": ["和{contact}通电话。", "给{contact}打了电话。"],
    "meeting": ["与{contact}及其团队开会。", "和{contact}视频会议。"],
    "visit": ["上门拜访{contact}。", "去了客户{city}的办公室。"],
    "email": ["{contact}来邮件。", "给{contact}发了邮件。"],
    "chat": ["微信沟通。", "和{contact}微信聊了一下。"],
    "note": ["备注：", "内部备注："],
}
_ZH_TOPICS = [
    "{contact}询问{qty}台设备的批量价格，我报了{amount}，对方希望按站点拆分报价。",
    "客户认为单价比{competitor}高，需要再讨论价格方案。",
    "对方要求在{quarter}底前签约可以给{percent}%折扣，需要经理审批。",
    "同意首年优惠{percent}%，条件是签{years}年合同。",
    "合同在法务审核中，预计{date}前给出修改意见，主要问题是责任上限条款。",
    "法务对数据处理条款和解约条款提了意见。",
    "收到安全问卷，共{qty}个问题，需要提供等保证明和渗透测试报告。",
    "信息部关心数据存储位置和单点登录，已发送安全白皮书。",
    "客户也在评估{competitor}，我们的优势是和他们ERP系统的对接。",
    "{competitor}报价便宜{percent}%，但{contact}承认他们的售后服务不行。",
    "上批{product}晚到了{days}天，客户不满意，已经给运营提工单。",
    "有{qty}台设备运输中损坏，承诺{date}前补发。",
    "续约日期是{date}，使用量增长了{percent}%，有意增加账号。",
    "对方希望保持今年价格续签{years}年。",
    "决策人是{decider}，{contact}支持我们但没有签字权。",
    "新来的{decider}正在重新评估所有供应商合同。",
    "给运营团队演示了{product}，大家对报表功能很感兴趣。",
    "去了客户在{city}的仓库，看到了目前的手工流程。",
    "季度回顾会议：{product}使用稳定，客户提了两个功能需求。",
    "预算已经批下来，采购流程大约需要{weeks}周。",
    "项目暂停，等{month}新财年再启动。",
    "试点效果不错，手工录入减少了{percent}%。",
    "{contact}没接电话，已留言。",
    "{contact}需要按他们的模板提交方案。",
    "发票{invoice}已逾期{days}天，财务说本周付款。",
]
_ZH_NEXT_STEPS = [
    "下一步：{weekday}前发送修改后的方案。",
    "{date}再跟进。",
    "下一步：和{decider}约电话。",
    "等待对方下采购单。",
    "准备案例和投资回报测算。",
    "{weeks}周后再约会议。",
]
_REMINDERS = [
    "Call {contact} about the {product} proposal",
    "Send the revised quote to {customer}",
    "Chase the legal redlines from {customer}",
    "Check whether {customer} has issued the PO",
    "Prepare the QBR deck for {customer}",
    "Follow up on the security questionnaire",
]
_ZH_REMINDERS = [
    "给{contact}打电话跟进{product}方案",
    "给{customer}发修改后的报价",
    "催{customer}法务意见",
    "确认{customer}是否已下采购单",
]
_KINDS = ["call", "email", "meeting", "note", "chat", "visit"]
_KIND_WEIGHTS = [30, 25, 15, 15, 10, 5]
_SOURCES = ["slack", "telegram", "console"]
_SOURCE_WEIGHTS = [50, 30, 20]


@dataclass
class _Customer:
    ext: str
    name: str
    chinese: bool
    owner: str
    city: str
    industry: str
    currency: str
    contacts: list[tuple[str, str]] = field(default_factory=list)  # (external_id, how to address)
    deals: list[tuple[str, datetime, str]] = field(default_factory=list)  # (id, created, stage)


class _Fill(dict[str, str]):
    """Template values made on first use, so a template only draws the randomness it needs."""

    def __init__(self, gen: _Generator, customer: _Customer, contact: str, when: datetime) -> None:
        super().__init__(contact=contact)
        self.gen = gen
        self.customer = customer
        self.when = when

    def __missing__(self, key: str) -> str:
        value = self.gen.placeholder(key, self.customer, self.when)
        self[key] = value
        return value


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _ascii_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


class _Generator:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.team_ids: list[str] = []
        self.team_members: list[list[str]] = []
        self.reps: list[str] = []
        self.chinese_reps: list[str] = []
        self.user_ids: set[str] = set()
        self.name_keys: set[str] = set()
        self.counters: dict[str, int] = {}
        self.owned: dict[str, list[_Customer]] = {}
        self.team_of: dict[str, str] = {}

    def next_id(self, prefix: str, width: int) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}-{n:0{width}d}"

    # -- staff -------------------------------------------------------------------------------

    def staff(self, customers: int) -> Iterator[dict[str, Any]]:
        named_reps = [s for s in _NAMED_STAFF if s[2] == "rep"]
        n_reps = max(len(named_reps), math.ceil(customers / CUSTOMERS_PER_REP))
        n_teams = max(2, math.ceil(n_reps / REPS_PER_TEAM))
        for i in range(n_teams):
            name = _TEAM_NAMES[i] if i < len(_TEAM_NAMES) else f"Sales Team {i + 1}"
            ext = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            self.team_ids.append(ext)
            self.team_members.append([])
            yield {"type": "team", "external_id": ext, "name": name}
        for ext, name, role, team, tz, locale in _NAMED_STAFF:
            self.user_ids.add(ext)
            if role == "rep":
                self.reps.append(ext)
                if locale == "zh":
                    self.chinese_reps.append(ext)
            if team is not None:
                self.team_members[team].append(ext)
            yield self.user(ext, name, role, team, tz, locale)
        rep_count = [sum(1 for s in named_reps if s[3] == i) for i in range(n_teams)]
        for team in range(2, n_teams):
            ext, name = self.person_name()
            self.team_members[team].append(ext)
            yield self.user(ext, name, "manager", team, self.rng.choice(_STAFF_TIMEZONES), "en")
        for _ in range(n_reps - len(named_reps)):
            team = min(range(n_teams), key=lambda t: (rep_count[t], t))
            rep_count[team] += 1
            # About one rep in ten works the Chinese accounts, so no one book grows huge.
            chinese = self.rng.random() < 0.1
            ext, name = self.person_name(chinese=chinese)
            self.reps.append(ext)
            self.team_members[team].append(ext)
            if chinese:
                self.chinese_reps.append(ext)
                yield self.user(ext, name, "rep", team, "Asia/Shanghai", "zh")
            else:
                yield self.user(ext, name, "rep", team, self.rng.choice(_STAFF_TIMEZONES), "en")

    def person_name(self, *, chinese: bool = False) -> tuple[str, str]:
        while True:
            if chinese:
                sur, given = self.rng.choice(_ZH_SURNAMES)[1], self.rng.choice(_ZH_GIVEN)[1]
                first, last = given.capitalize(), sur.capitalize()
                name = f"{last} {first}"
            else:
                first, last = self.rng.choice(_FIRST_NAMES), self.rng.choice(_LAST_NAMES)
                name = f"{first} {last}"
            ext = f"{_ascii_slug(first)}.{_ascii_slug(last)}"
            if ext not in self.user_ids:
                self.user_ids.add(ext)
                return ext, name

    def user(
        self, ext: str, name: str, role: str, team: int | None, tz: str, locale: str
    ) -> dict[str, Any]:
        if team is not None:
            self.team_of[ext] = self.team_ids[team]
        return {
            "type": "user",
            "external_id": ext,
            "name": name,
            "email": f"{ext}@example.com",
            "role": role,
            "team": None if team is None else self.team_ids[team],
            "timezone": tz,
            "locale": locale,
            "active": True,
        }

    def teammates(self, rep: str) -> list[str]:
        for members in self.team_members:
            if rep in members:
                return members
        return [rep]

    # -- customers ---------------------------------------------------------------------------

    def unique(self, make: Any) -> str:
        """A name whose comparison key no other customer has (lookups stay unambiguous)."""
        for _ in range(30):
            name = make()
            key = name_key(name)
            if key not in self.name_keys:
                self.name_keys.add(key)
                return str(name)
        n = 2
        while True:
            candidate = f"{name} {n}"
            key = name_key(candidate)
            if key not in self.name_keys:
                self.name_keys.add(key)
                return candidate
            n += 1

    def english_company(self) -> tuple[str, str, str]:
        industry = self.rng.choice(list(_INDUSTRIES))
        rng = self.rng

        def make() -> str:
            first = rng.choice(_COMPANY_WORDS if rng.random() < 0.7 else _LAST_NAMES)
            return f"{first} {rng.choice(_INDUSTRIES[industry])}"

        base = self.unique(make)
        return base + rng.choice(_LEGAL), industry, _ascii_slug(base)

    def chinese_company(self) -> tuple[str, str, str, str]:
        rng = self.rng
        word, industry = rng.choice(_ZH_INDUSTRIES)
        city, _ = rng.choice(_ZH_CITIES)
        chosen: list[str] = []

        def make() -> str:
            prefix, prefix_py = rng.choice(_ZH_PREFIXES)
            chosen[:] = [prefix_py]
            return (city if rng.random() < 0.5 else "") + prefix + word

        base = self.unique(make)
        domain = f"{chosen[0] if chosen else 'corp'}.com.cn"
        return base + rng.choice(_ZH_SUFFIXES), industry, city, domain

    def customers(self, count: int) -> Iterator[dict[str, Any]]:
        fixed: list[tuple[str, str, str, str, bool]] = [
            ("Acme Logistics Inc.", "Logistics", "Chicago", "alice", False),
            ("Northwind Traders", "Wholesale", "Seattle", "carol", False),
            ("华东物流有限公司", "Logistics", "上海", "wei", True),
            ("Globex Corporation", "Manufacturing", "London", "dave", False),
            ("Initech LLC", "Technology", "Dallas", "alice", False),
        ]
        for _, name, _, _, _ in fixed:
            self.name_keys.add(name_key(name))
        for i in range(count):
            ext = self.next_id("cust", 5)
            if i < len(fixed):
                name, industry, city, owner, chinese = fixed[i]
                domain = "huadong.com.cn" if chinese else _ascii_slug(name_key(name)) + ".com"
            else:
                chinese = self.rng.random() < 0.1
                if chinese:
                    name, industry, city, domain = self.chinese_company()
                else:
                    name, industry, slug = self.english_company()
                    city = self.rng.choice(_CITIES)[0]
                    domain = f"{slug}.com"
                owner = self.owner(i, chinese)
            currency = "CNY" if chinese else _CURRENCY_BY_CITY.get(city, "USD")
            cust = _Customer(ext, name, chinese, owner, city, industry, currency)
            tags = sorted(self.rng.sample(_TAGS, self.rng.choice([0, 0, 1, 1, 2])))
            yield {
                "type": "customer",
                "external_id": ext,
                "name": name,
                "owner": owner,
                "industry": industry,
                "city": city,
                "tags": tags,
            }
            yield from self.contacts(cust, domain)
            yield from self.deals(cust)
            yield from self.interactions(cust)
            self.owned.setdefault(owner, []).append(cust)

    def owner(self, index: int, chinese: bool) -> str:
        if chinese and self.chinese_reps and self.rng.random() < 0.8:
            return self.rng.choice(self.chinese_reps)
        if index < len(self.reps):
            return self.reps[index]
        return self.rng.choice(self.reps)

    def contacts(self, cust: _Customer, domain: str) -> Iterator[dict[str, Any]]:
        rng = self.rng
        phone_prefix = dict(_CITIES).get(cust.city, "+1 555 555")
        for _ in range(rng.choice([1, 1, 2, 2, 2, 3])):
            ext = self.next_id("contact", 6)
            if cust.chinese:
                (sur, sur_py), (given, given_py) = rng.choice(_ZH_SURNAMES), rng.choice(_ZH_GIVEN)
                name, title = sur + given, rng.choice(_ZH_TITLES)
                address = sur + rng.choice(_ZH_HONORIFIC)
                email = f"{given_py}.{sur_py}@{domain}"
                phone = f"+86 1{rng.choice('3578')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} "
                phone += f"{rng.randint(1000, 9999)}"
            else:
                first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
                name, title, address = f"{first} {last}", rng.choice(_TITLES), first
                email = f"{_ascii_slug(first)}.{_ascii_slug(last)}@{domain}"
                phone = f"{phone_prefix} {rng.randint(100, 9999):04d}"
            cust.contacts.append((ext, address))
            yield {
                "type": "contact",
                "external_id": ext,
                "customer": cust.ext,
                "name": name,
                "title": title,
                "email": email if rng.random() < 0.9 else None,
                "phone": phone if rng.random() < 0.8 else None,
            }

    # -- deals and their history -------------------------------------------------------------

    def deals(self, cust: _Customer) -> Iterator[dict[str, Any]]:
        rng = self.rng
        stages = list(_STAGE_WEIGHTS)
        weights = list(_STAGE_WEIGHTS.values())
        for _ in range(rng.randint(1, 5)):
            ext = self.next_id("deal", 6)
            n = self.counters["deal"]
            # The first deals walk every stage so even a tiny file shows the whole pipeline.
            stage = stages[n - 1] if n <= len(stages) else rng.choices(stages, weights)[0]
            if stage == _WON:
                path = [*_OPEN, _WON]
            elif stage == _LOST:
                path = [*_OPEN[: rng.randint(1, len(_OPEN))], _LOST]
            else:
                path = _OPEN[: _OPEN.index(stage) + 1]
            created = self.now - timedelta(seconds=rng.randint(7 * 86400, 365 * 86400))
            end = min(self.now - timedelta(hours=1), created + timedelta(days=180))
            span = int((end - created).total_seconds())
            moves = sorted(rng.randint(3600, span) for _ in path[1:])
            times = [created] + [created + timedelta(seconds=s) for s in moves]
            closed = stage in (_WON, _LOST)
            lost_reason = None
            if stage == _LOST:
                reasons = _ZH_LOST_REASONS if cust.chinese else _LOST_REASONS
                competitors = _ZH_COMPETITORS if cust.chinese else _COMPETITORS
                lost_reason = rng.choice(reasons).format(competitor=rng.choice(competitors))
            if closed:
                expected = times[-1].date()
            else:
                expected = (self.now + timedelta(days=rng.randint(7, 120))).date()
            amount = rng.choice([25, 50, 75, 120, 180, 250, 400, 600, 850, 1200, 2500]) * 100
            amount = int(amount * rng.uniform(0.8, 1.5)) // 100 * 100
            if cust.currency == "CNY":
                amount *= 7
            cust.deals.append((ext, created, stage))
            yield {
                "type": "deal",
                "external_id": ext,
                "customer": cust.ext,
                "title": self.deal_title(cust),
                "amount": f"{amount}.00" if rng.random() < 0.95 else None,
                "currency": cust.currency,
                "stage": stage,
                "owner": cust.owner,
                "expected_close": expected.isoformat(),
                "lost_reason": lost_reason,
                "created_at": _iso(created),
                "closed_at": _iso(times[-1]) if closed else None,
            }
            previous: str | None = None
            for to_stage, when in zip(path, times, strict=True):
                reason = None
                if to_stage == _LOST:
                    reason = lost_reason
                elif previous is not None and rng.random() < 0.5:
                    table = _ZH_STAGE_REASONS if cust.chinese else _STAGE_REASONS
                    reason = rng.choice(table.get(to_stage, [""])) or None
                yield {
                    "type": "stage_change",
                    "external_id": self.next_id("sc", 6),
                    "deal": ext,
                    "from_stage": previous,
                    "to_stage": to_stage,
                    "changed_at": _iso(when),
                    "actor": cust.owner,
                    "reason": reason,
                }
                previous = to_stage

    def deal_title(self, cust: _Customer) -> str:
        rng = self.rng
        year = str(self.now.year + rng.choice([0, 0, 1]))
        if cust.chinese:
            template = rng.choice(_ZH_DEAL_TITLES)
            product = rng.choice(_ZH_PRODUCTS)
            return template.format(
                product=product, year=year, qty=rng.randint(2, 50) * 10, city=cust.city
            )
        template = rng.choice(_DEAL_TITLES)
        product = rng.choice(_PRODUCTS)
        return template.format(
            Product=product[0].upper() + product[1:],
            product=product,
            year=year,
            qty=rng.randint(2, 50) * 10,
            city=cust.city,
            n=rng.randint(2, 3),
        )

    # -- interactions ------------------------------------------------------------------------

    def interactions(self, cust: _Customer) -> Iterator[dict[str, Any]]:
        rng = self.rng
        count = rng.randint(5, 35)
        offsets = sorted(rng.randint(600, int(YEAR.total_seconds())) for _ in range(count))
        team = self.teammates(cust.owner)
        for offset in reversed(offsets):
            when = self.now - timedelta(seconds=offset)
            kind = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
            author = cust.owner if rng.random() < 0.85 else rng.choice(team)
            open_then = [d for d in cust.deals if d[1] <= when]
            deal = rng.choice(open_then)[0] if open_then and rng.random() < 0.6 else None
            contact_ext, address = rng.choice(cust.contacts)
            linked = rng.random() < 0.7 and kind != "note"
            yield {
                "type": "interaction",
                "external_id": self.next_id("int", 7),
                "customer": cust.ext,
                "deal": deal,
                "contact": contact_ext if linked else None,
                "author": author,
                "kind": kind,
                "occurred_at": _iso(when),
                "text": self.note(cust, kind, address, when),
                "source": rng.choices(_SOURCES, _SOURCE_WEIGHTS)[0],
            }

    def note(self, cust: _Customer, kind: str, contact: str, when: datetime) -> str:
        rng = self.rng
        fill = _Fill(self, cust, contact, when)
        if cust.chinese:
            openers, topics, steps, sep = _ZH_OPENERS, _ZH_TOPICS, _ZH_NEXT_STEPS, ""
        else:
            openers, topics, steps, sep = _OPENERS, _TOPICS, _NEXT_STEPS, " "
        parts = []
        if rng.random() < 0.6:
            parts.append(rng.choice(openers[kind]))
        parts.append(rng.choice(topics))
        if rng.random() < 0.25:
            parts.append(rng.choice(topics))
        if rng.random() < 0.6:
            parts.append(rng.choice(steps))
        return sep.join(parts).format_map(fill)

    def placeholder(self, key: str, cust: _Customer, when: datetime) -> str:
        """A random template value in the customer's language; dates count from `when`."""
        rng = self.rng
        zh = cust.chinese
        if key == "amount":
            value = rng.randint(5, 250) * 1000
            if zh:
                return f"{value * 7 // 10000}万元"
            return f"{_SYMBOL.get(cust.currency, '$')}{value:,}"
        if key == "date":
            day = when + timedelta(days=rng.randint(3, 60))
            return f"{day.month}月{day.day}日" if zh else f"{_MONTHS[day.month - 1]} {day.day}"
        if key == "weekday":
            return rng.choice(_ZH_WEEKDAYS if zh else _WEEKDAYS)
        if key == "month":
            month = rng.randint(1, 12)
            return f"{month}月" if zh else _MONTHS[month - 1]
        if key == "quarter":
            q = rng.randint(1, 4)
            return f"第{'一二三四'[q - 1]}季度" if zh else f"Q{q}"
        if key == "competitor":
            return rng.choice(_ZH_COMPETITORS if zh else _COMPETITORS)
        if key == "product":
            return rng.choice(_ZH_PRODUCTS if zh else _PRODUCTS)
        if key == "decider":
            return rng.choice(_ZH_DECIDERS if zh else _DECIDERS)
        if key == "city":
            return cust.city
        if key == "industry":
            return cust.industry.lower()
        if key == "customer":
            return cust.name
        if key == "invoice":
            return f"INV-{rng.randint(10000, 99999)}"
        ranges = {
            "qty": (10, 500),
            "percent": (5, 25),
            "days": (2, 14),
            "weeks": (2, 8),
            "years": (2, 3),
            "minutes": (10, 60),
        }
        low, high = ranges[key]
        return str(rng.randint(low, high))

    # -- reminders ---------------------------------------------------------------------------

    def reminders(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for rep in self.reps:
            for i, cust in enumerate(self.owned.get(rep, [])[:3]):
                pending = i < 2
                if pending:
                    due = self.now + timedelta(minutes=rng.randint(60, 14 * 24 * 60))
                else:
                    due = self.now - timedelta(minutes=rng.randint(60, 30 * 24 * 60))
                open_deals = [d[0] for d in cust.deals if d[2] not in (_WON, _LOST)]
                contact = rng.choice(cust.contacts)[1]
                fill = _Fill(self, cust, contact, due)
                template = rng.choice(_ZH_REMINDERS if cust.chinese else _REMINDERS)
                yield {
                    "type": "reminder",
                    "external_id": self.next_id("rem", 5),
                    "owner": rep,
                    "due_at": _iso(due.replace(second=0, microsecond=0)),
                    "text": template.format_map(fill),
                    "customer": cust.ext,
                    "deal": rng.choice(open_deals) if open_deals else None,
                    "status": "pending" if pending else "done",
                }

    # -- tickets -----------------------------------------------------------------------------

    def tickets(self, care: Sequence[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        """Tickets of the English-speaking customers from real care summaries, in cycle.

        The customer's sentence of a summary is the subject and description, the agent's the
        reply (and, for a resolved ticket, what fixed it); times fall in the last 30 days.
        """
        rng = self.rng
        english = [c for rep in self.reps for c in self.owned.get(rep, []) if not c.chinese]
        english.sort(key=lambda c: c.ext)
        n = 0
        for cust in english:
            for _ in range(rng.randint(0, TICKETS_PER_CUSTOMER)):
                problem, answer = care[n % len(care)]
                n += 1
                yield from self.ticket(cust, problem, answer)

    def ticket(self, cust: _Customer, problem: str, answer: str) -> Iterator[dict[str, Any]]:
        rng = self.rng
        ext = self.next_id("tkt", 5)
        opened = self.now - timedelta(minutes=rng.randint(30, 30 * 24 * 60))
        priority = rng.choices(("urgent", "high", "normal", "low"), (1, 3, 5, 2))[0]
        active = rng.random() < _ACTIVE_SHARE
        replied = opened + timedelta(minutes=rng.randint(5, 8 * 60))
        if replied >= self.now:
            replied = opened + (self.now - opened) / 2
        resolved = replied + timedelta(minutes=rng.randint(10, 3 * 24 * 60))
        if resolved >= self.now:
            active = True
        status = "open" if active else rng.choice(("resolved", "resolved", "closed"))
        closed = resolved + timedelta(hours=1) if status == "closed" else None
        owner = cust.owner
        events: list[tuple[str, datetime, str, str | None, str | None]] = [
            ("created", opened, "new", priority, None),
            ("assigned", opened, "open", owner, None),
            ("reply", replied, "open", None, answer),
        ]
        if not active:
            events.append(("resolve", resolved, "resolved", None, answer))
        if closed is not None:
            events.append(("close", closed, "closed", None, None))
        yield {
            "type": "ticket",
            "external_id": ext,
            "customer": cust.ext,
            "subject": _subject(problem),
            "description": problem,
            "priority": priority,
            "status": status,
            "assignee": owner,
            "team": self.team_of.get(owner),
            "created_by": owner,
            "source": "import",
            "created_at": _iso(opened),
            "first_response_at": _iso(replied),
            "resolved_at": None if active else _iso(resolved),
            "closed_at": None if closed is None else _iso(closed),
        }
        for i, (kind, at, after, value, text) in enumerate(events):
            yield {
                "type": "ticket_event",
                "external_id": f"{ext}-{i + 1}",
                "ticket": ext,
                "kind": kind,
                "at": _iso(at),
                "actor": owner,
                "status": after,
                "value": value,
                "text": text,
            }


# "Customer is complaining that the app crashes": the subject starts at what happened.
_REPORTED = re.compile(
    r"^(?:the\s+)?(?:customer|user|client)\s+(?:is|was|has been)\s+"
    r"(?:complaining|saying|stating|asking|enquiring|inquiring|reporting|requesting)"
    r"(?:\s+(?:that|about|for|regarding|on))?\s+",
    re.I,
)


def _subject(problem: str) -> str:
    """A ticket subject from a summary's customer sentence: its first sentence, at most 120."""
    first = re.split(r"(?<=[.!?])\s", problem.strip(), maxsplit=1)[0]
    first = _REPORTED.sub("", first).rstrip(".")
    first = first[:1].upper() + first[1:]
    return first if len(first) <= 120 else first[:119].rstrip() + "…"


# Of the demo's tickets: the share still being worked (the rest resolved, a few closed).
_ACTIVE_SHARE = 0.3
TICKETS_PER_CUSTOMER = 2


def generate(
    customers: int,
    seed: int,
    *,
    now: datetime | None = None,
    care: Sequence[tuple[str, str]] = (),
) -> Iterator[dict[str, Any]]:
    """Yield demo exchange records: staff, customers with contacts, deals, notes, reminders,
    and, given `care` (tweetsumm_issues), service tickets built from those real summaries."""
    if customers < 0:
        raise ValueError("customers must be zero or more")
    if now is not None and now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    gen = _Generator(random.Random(seed), (now or REFERENCE_NOW).astimezone(UTC))
    yield from gen.staff(customers)
    yield from gen.customers(customers)
    yield from gen.reminders()
    if care:
        yield from gen.tickets(care)
