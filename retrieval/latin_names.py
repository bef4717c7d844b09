"""Names across scripts: a Chinese company name in Latin letters."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from crm_core.services.duplicates import CN_PLACES

# The trade a Chinese company name ends with, as English speakers call such a company
# ("上海星悦餐饮" is "Xingyue Catering", "无锡精工电机" "Jinggong Motor"). Longest first where
# one holds another (新能源 before 能源).
_TRADES: dict[str, tuple[str, ...]] = {
    "餐饮": ("catering", "restaurants", "food"),
    "酒店": ("hotel", "hotels"),
    "宾馆": ("hotel",),
    "度假村": ("resort",),
    "文旅": ("tourism",),
    "旅游": ("tourism", "travel"),
    "电子": ("electronics",),
    "电机": ("motor", "motors"),
    "电器": ("electric", "appliances"),
    "家电": ("appliances", "appliance"),
    "电气": ("electric",),
    "光电": ("optoelectronics", "opto"),
    "包装": ("packaging",),
    "物流": ("logistics",),
    "快递": ("express",),
    "科技": ("tech", "technology"),
    "技术": ("tech", "technology"),
    "机械": ("machinery",),
    "精密": ("precision",),
    "家居": ("home", "furniture", "furnishings"),
    "家具": ("furniture",),
    "鞋业": ("shoes", "footwear"),
    "服装": ("apparel", "garments", "fashion"),
    "服饰": ("apparel", "fashion"),
    "纺织": ("textile", "textiles"),
    "汽车": ("auto", "automotive", "motors"),
    "新能源": ("new energy",),
    "能源": ("energy",),
    "风电": ("wind", "wind power"),
    "电力": ("power", "electric"),
    "无人机": ("drone", "drones", "uav"),
    "自行车": ("bicycle", "bicycles", "bike", "bikes", "cycles"),
    "钟表": ("watch", "watches"),
    "游艇": ("yacht", "yachts"),
    "船舶": ("marine", "shipbuilding"),
    "航空": ("aviation", "airlines", "air"),
    "咖啡": ("coffee",),
    "茶业": ("tea",),
    "食品": ("food", "foods"),
    "饮料": ("beverage", "beverages", "drinks"),
    "乳业": ("dairy",),
    "医疗": ("medical", "healthcare"),
    "医药": ("pharma", "pharmaceutical"),
    "药业": ("pharma", "pharmaceutical"),
    "生物": ("bio", "biotech"),
    # Taiwan's short form of 生物科技.
    "生技": ("biotech", "bio"),
    "花卉": ("flowers", "flower", "floral"),
    "海产": ("seafood", "seafoods"),
    "水产": ("seafood", "aquatic"),
    "化工": ("chemical", "chemicals"),
    "材料": ("materials",),
    "新材料": ("new materials", "materials"),
    "建材": ("building materials",),
    "建筑": ("construction",),
    "地产": ("properties", "real estate"),
    "置业": ("properties",),
    "物业": ("property", "property management"),
    "塑料": ("plastics",),
    "塑胶": ("plastics",),
    "五金": ("hardware",),
    "印刷": ("printing",),
    "设备": ("equipment",),
    "仪器": ("instruments",),
    "软件": ("software",),
    "信息": ("information", "info"),
    "数据": ("data",),
    "网络": ("network", "networks"),
    "通信": ("telecom", "communications"),
    "通讯": ("telecom", "communications"),
    "传媒": ("media",),
    "文化": ("culture",),
    "教育": ("education",),
    "贸易": ("trading",),
    "商贸": ("trading",),
    "国贸": ("trading",),
    "实业": ("industrial", "industries"),
    "工业": ("industrial", "industries"),
    "制造": ("manufacturing",),
    "控股": ("holdings",),
    "集团": ("group",),
    "投资": ("investment", "investments"),
    "银行": ("bank",),
    "保险": ("insurance",),
    "咨询": ("consulting",),
    "零售": ("retail",),
    "超市": ("supermarket", "supermarkets"),
    "百货": ("department store",),
    "农业": ("agriculture", "agri"),
    "钢铁": ("steel",),
    "金属": ("metals", "metal"),
    "玻璃": ("glass",),
    "陶瓷": ("ceramics",),
    "纸业": ("paper",),
    "照明": ("lighting",),
    "半导体": ("semiconductor", "semi"),
    "电池": ("battery", "batteries"),
    "储能": ("energy storage",),
    "光伏": ("solar", "pv"),
    "环保": ("environmental",),
    "水务": ("water",),
    "健身": ("fitness",),
    "运动": ("sports",),
    "影院": ("cinema", "cinemas"),
    "连锁": ("chain",),
    "饭店": ("hotel", "hotels"),
    "餐厅": ("restaurant", "restaurants"),
    "烘焙": ("bakery",),
    "会展": ("expo", "convention"),
    "便利": ("convenience",),
    "机场": ("airport",),
    "贵宾室": ("lounge", "lounges"),
    "园区": ("park",),
    "服务": ("services",),
    # Farms and the trades around them: an English note calls 青山家庭农场 "Qingshan Family
    # Farm" and 红星国营农场 "Hongxing State Farm".
    "家庭农场": ("family farm", "farm"),
    "国营农场": ("state farm", "farm"),
    "有机农场": ("organic farm", "farm"),
    "农场": ("farm",),
    "牧场": ("ranch", "dairy farm"),
    "米业": ("rice", "rice mill", "rice milling"),
    "碾米厂": ("rice mill",),
    "米厂": ("rice mill",),
    "粮食": ("grain",),
    "烘干中心": ("drying center", "drying centre", "dryer"),
    "合作社": ("co op", "coop", "cooperative", "co operative"),
    "果蔬": ("fruit and vegetable", "produce"),
    "蔬果": ("produce", "fruit and vegetable"),
    "蔬菜": ("vegetable", "vegetables"),
    "茶园": ("tea garden", "tea estate", "tea"),
    "茶场": ("tea farm", "tea estate", "tea"),
    "果园": ("orchard",),
    "酒庄": ("winery", "estate"),
    "农会": ("farmers association", "farmers' association"),
    # Schools, colleges and public offices: an English note calls 烟台滨海大学 "Yantai Binhai
    # University" and 台中市明德高中 "Mingde Senior High".
    "大学": ("university",),
    "学院": ("college", "institute"),
    "书院": ("college",),
    "高中": ("senior high", "high school"),
    "中学": ("high school", "secondary school", "middle school"),
    "小学": ("primary school", "primary", "elementary school"),
    "国小": ("elementary school", "primary school", "elementary", "primary"),
    "教育局": ("education bureau", "education department"),
    "医院": ("hospital",),
}
# Cities whose English spelling is not their pinyin (Wade-Giles, Cantonese, old post names).
_CITY_SPELLINGS: dict[str, tuple[str, ...]] = {
    "台北": ("taipei",),
    "新北": ("new taipei",),
    "台中": ("taichung",),
    "台南": ("tainan",),
    "高雄": ("kaohsiung",),
    "新竹": ("hsinchu",),
    "基隆": ("keelung",),
    "嘉义": ("chiayi",),
    "彰化": ("changhua",),
    "香港": ("hong kong", "hk"),
    "九龙": ("kowloon",),
    "澳门": ("macau", "macao"),
    "广州": ("canton",),
    "厦门": ("amoy",),
    "屏东": ("pingtung",),
    "台东": ("taitung",),
    "云林": ("yunlin",),
    "宜兰": ("yilan", "ilan"),
    "花莲": ("hualien",),
    "桃园": ("taoyuan",),
    "苗栗": ("miaoli",),
    "南投": ("nantou",),
    "元朗": ("yuen long",),
    "上水": ("sheung shui",),
    "沙田": ("sha tin",),
    "荃湾": ("tsuen wan",),
}
_LONGEST_FIRST = sorted(_TRADES, key=len, reverse=True)
_HAN = re.compile(r"[\u3400-\u9fff]")


def _pinyin(han: str) -> str:
    """`han` in toneless pinyin, syllables joined ("jinggong")."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(han, style=Style.NORMAL, errors="ignore"))


def trade_words(trade: str) -> tuple[str, ...]:
    """English words for the trade a name's rest opens with ("电机有限" -> motor, motors)."""
    for zh in _LONGEST_FIRST:
        if trade.startswith(zh):
            return _TRADES[zh]
    return ()


def short_with_trade(customer_key: str) -> str | None:
    """A Chinese name's brand with the last word of a trade of four characters or more, as
    people shorten it ("青山家庭农场" is "青山农场", "五常金穗家庭农场" "金穗农场")."""
    split = _split(customer_key)
    if split is None:
        return None
    han, at = split
    trade = han[at + 2 :]
    if len(trade) < 4 or trade not in _TRADES:
        return None
    return han[at : at + 2] + trade[-2:]


def _split(customer_key: str) -> tuple[str, int] | None:
    """A Chinese name's characters and where its brand starts (2 after a city, 0 without)."""
    han = city_ending_dropped("".join(_HAN.findall(customer_key)))
    if len(han) >= 6 and han[2:] in _TRADES:
        return han, 0  # brand and a trade of four: "青山家庭农场" is "qingshan family farm"
    if len(han) >= 6:
        return han, 2  # city, brand, trade
    if len(han) >= 4 and trade_words(han[2:]):
        return han, 0  # no city: "华东物流" is "huadong logistics" (its brand alone is too short)
    return None


def city_ending_dropped(han: str) -> str:
    """A Chinese name without the 市 or 省 after its opening place ("成都市锦江区教育局" is
    "成都锦江区教育局"): people drop it, and it is no part of the brand after it."""
    if len(han) >= 6 and han[2] in "市省":
        return han[:2] + han[3:]
    return han


@functools.lru_cache(maxsize=100_000)
def latin_forms(customer_key: str) -> frozenset[str]:
    """The Latin forms that name a Chinese customer anywhere in a question: two parts said.

    City and brand ("wuxi jinggong" for 无锡精工电机, "hsinchu ..." by the city's English
    spelling), brand and trade ("jinggong motor", "jinggong dianji"), or all three. A brand
    alone ("dana", "anna", "long run") and a city with a trade ("shanghai logistics") are
    ordinary words too often to name a customer.
    """
    split = _split(customer_key)
    if split is None:
        return frozenset()
    han, at = split
    from pypinyin import Style, lazy_pinyin

    sounds = lazy_pinyin(han[: at + 4], style=Style.NORMAL, errors="ignore")
    if len(sounds) != at + 4:
        return frozenset()
    brand = sounds[at : at + 2]
    brands = {"".join(brand), " ".join(brand)}
    rest = han[at + 2 :]
    # The trade may follow a longer brand or a place ("新竹科学园区餐饮服务" caters).
    trades = {"".join(sounds[at + 2 :])}
    trades.update(w for zh in _LONGEST_FIRST if zh in rest for w in _TRADES[zh])
    out: set[str] = {f"{b} {t}" for b in brands for t in trades}
    for city in city_spellings(customer_key):
        for b in brands:
            out.add(f"{city} {b}")
            out.update(f"{city} {b} {t}" for t in trades)
    return frozenset(f for f in out if len(f.replace(" ", "")) >= 4)


@functools.lru_cache(maxsize=100_000)
def opening_forms(customer_key: str) -> frozenset[str]:
    """Forms that name a Chinese customer only where a question opens with its name.

    Its brand alone ("xingyue - ...") or its English part's first two words ("golden lotus"
    for 澳门金莲花度假村 Golden Lotus Resort Macau): inside a sentence they are as likely
    ordinary words.
    """
    out: set[str] = set()
    english = re.findall(r"[a-z][a-z0-9]*", customer_key)
    if len(english) >= 2:
        out |= {" ".join(english), " ".join(english[:2])}
    split = _split(customer_key)
    if split is not None and split[1] == 2:
        from pypinyin import Style, lazy_pinyin

        brand = lazy_pinyin(split[0][2:4], style=Style.NORMAL, errors="ignore")
        if len(brand) == 2:
            out |= {"".join(brand), " ".join(brand)}
    return frozenset(f for f in out if len(f.replace(" ", "")) >= 4)


@functools.lru_cache(maxsize=100_000)
def city_spellings(customer_key: str) -> frozenset[str]:
    """The Latin spellings of the city a Chinese name opens with ("shanghai"; "hsinchu")."""
    split = _split(customer_key)
    if split is None or split[1] != 2:
        return frozenset()
    city = split[0][:2]
    return frozenset({_pinyin(city), *_CITY_SPELLINGS.get(city, ())})


@functools.cache
def latin_cities() -> frozenset[str]:
    """Latin spellings of the Chinese places company names open with ("beijing", "hong kong")."""
    out = {_pinyin(p) for p in CN_PLACES}
    out.update(s for spellings in _CITY_SPELLINGS.values() for s in spellings)
    return frozenset(out)


# Tone marks off, as pypinyin's plain style writes a syllable ("lǜ" is "lv").
_TONELESS = str.maketrans(
    {
        **{c: "a" for c in "āáǎà"},
        **{c: "e" for c in "ēéěèêếề"},
        **{c: "i" for c in "īíǐì"},
        **{c: "o" for c in "ōóǒò"},
        **{c: "u" for c in "ūúǔù"},
        **{c: "v" for c in "üǖǘǚǜ"},
        **{c: "n" for c in "ńňǹ"},
        "ḿ": "m",
        **{c: None for c in "\u0300\u0304\u030c"},
    }
)


@functools.cache
def _chars_read() -> dict[str, frozenset[str]]:
    """Every toneless pinyin syllable with the characters read so (all their readings)."""
    from pypinyin.pinyin_dict import pinyin_dict

    out: dict[str, set[str]] = {}
    for code, readings in pinyin_dict.items():
        if not 0x3400 <= code <= 0x9FFF:
            continue
        for reading in readings.split(","):
            syllable = reading.translate(_TONELESS)
            if syllable.isascii() and syllable:
                out.setdefault(syllable, set()).add(chr(code))
    # Interjections (嗯 n, 呣 m, 哼 hng, 哦 o) start no brand; as syllables they would split
    # ordinary words ("on" o-n).
    return {k: frozenset(v) for k, v in out.items() if k not in _INTERJECTIONS}


_INTERJECTIONS = frozenset({"n", "m", "ng", "hm", "hng", "o", "yo", "lo"})


# The shape of a pinyin syllable (an initial, a final): a word not made of two such, nor two
# words each one, spells no brand, and pypinyin's table (a third of a second to load) is left
# unread for it.
_SYLLABLE = re.compile(
    r"(?:[zcs]h|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|ai|ei|ao|ou|an|en|in|un|er|ia|ie|iu"
    r"|ua|uo|ui|ue|ve|a|o|e|i|u|v)"
)


def _pairs(words: list[str], syllable: Callable[[str], bool]) -> set[tuple[str, str]]:
    """The two syllables a brand said in `words` could be ("xingyue", "xing yue")."""
    pairs: set[tuple[str, str]] = set()
    latin = [w if w.isascii() and w.isalpha() else "" for w in words]
    for i, w in enumerate(latin):
        for cut in range(1, len(w)):
            if syllable(w[:cut]) and syllable(w[cut:]):
                pairs.add((w[:cut], w[cut:]))
        if i + 1 < len(latin) and w and syllable(w) and syllable(latin[i + 1]):
            pairs.add((w, latin[i + 1]))
    return pairs


def brand_characters(words: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The characters a brand's first and second syllable may be written with, if the Latin
    words of a question spell one ("xingyue" or "xing yue": 星/兴/行… then 悦/月/越…).

    Only names whose brand could be said are read for their Latin forms: computing those for
    every Chinese name took seconds on the first question of a large book.
    """
    if not _pairs(words, lambda w: _SYLLABLE.fullmatch(w) is not None):
        return frozenset(), frozenset()
    read = _chars_read()
    pairs = _pairs(words, read.__contains__)
    first = frozenset(c for a, _ in pairs for c in read[a])
    second = frozenset(c for _, b in pairs for c in read[b])
    return first, second


def pinyin_words(customer_key: str) -> frozenset[str]:
    """The pinyin words among a Chinese name's Latin forms (its city and brand, said aloud)."""
    han = "".join(_HAN.findall(customer_key))
    if len(han) < 6:
        return frozenset()
    return frozenset({_pinyin(han[:2]), _pinyin(han[2:4])})
