"""Names across scripts: a Chinese company name in Latin letters, a Latin one by its sound."""

from __future__ import annotations

import functools
import re

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
}
# Trades too vague to name a company with its city alone ("any shenzhen services news?").
_VAGUE = frozenset(
    [
        "services",
        "group",
        "chain",
        "park",
        "food",
        "home",
        "info",
        "information",
        "data",
        "air",
        "power",
        "tech",
        "technology",
        "industrial",
        "industries",
        "trading",
        "holdings",
        "investment",
        "investments",
        "culture",
        "network",
        "networks",
        "equipment",
    ]
)
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
}
_LONGEST_FIRST = sorted(_TRADES, key=len, reverse=True)
_HAN = re.compile(r"[\u3400-\u9fff]")


def _pinyin(han: str) -> str:
    """`han` in toneless pinyin, syllables joined ("jinggong")."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(han, style=Style.NORMAL, errors="ignore"))


def city_trades(customer_key: str) -> set[str]:
    """A Chinese name's city with a trade it names: 桃园国际机场贵宾室 is "桃园贵宾室"."""
    han = "".join(_HAN.findall(customer_key))
    if len(han) < 6:
        return set()
    return {
        han[:2] + zh for zh in _LONGEST_FIRST if zh in han[4:] and not set(_TRADES[zh]) <= _VAGUE
    }


def trade_words(trade: str) -> tuple[str, ...]:
    """English words for the trade a name's rest opens with ("电机有限" -> motor, motors)."""
    for zh in _LONGEST_FIRST:
        if trade.startswith(zh):
            return _TRADES[zh]
    return ()


@functools.lru_cache(maxsize=100_000)
def latin_forms(customer_key: str) -> frozenset[str]:
    """The Latin forms an English question may call a Chinese customer by.

    City, brand, trade: 无锡精工电机 is "jinggong", "wuxi jinggong", "jinggong motor" or
    "jinggong dianji"; its English part, if the name has one, by its first words.
    """
    out: set[str] = set()
    english = " ".join(re.findall(r"[a-z][a-z0-9]*", customer_key))
    if len(english.split()) >= 2:
        out |= {english, " ".join(english.split()[:2])}
    han = "".join(_HAN.findall(customer_key))
    if len(han) >= 6:
        at = 2  # city, brand, trade
    elif len(han) >= 4 and trade_words(han[2:]):
        at = 0  # no city: "华东物流" is "huadong logistics" (its brand alone is too short)
    else:
        return frozenset(out)
    from pypinyin import Style, lazy_pinyin

    # One reading of the name: an admin's first question reads thousands of them.
    sounds = lazy_pinyin(han[: at + 4], style=Style.NORMAL, errors="ignore")
    if len(sounds) != at + 4:
        return frozenset(out)
    cities = {"".join(sounds[:at]), *_CITY_SPELLINGS.get(han[:at], ())} if at else {""}
    brand = sounds[at : at + 2]
    brands = {"".join(brand), " ".join(brand)}
    if at:
        out |= brands
    rest = han[at + 2 :]
    # The trade may follow a longer brand or a place ("新竹科学园区餐饮服务" caters).
    trades = {"".join(sounds[at + 2 :])}
    trades.update(w for zh in _LONGEST_FIRST if zh in rest for w in _TRADES[zh])
    for city in cities:
        for b in brands:
            if city:
                out.add(f"{city} {b}")
            for t in trades:
                out.add(f"{b} {t}")
                if city:
                    out.add(f"{city} {b} {t}")
        if city:
            # A city and a trade: "hsinchu catering" (two of one city and trade name none).
            out.update(f"{city} {t}" for t in trades - _VAGUE - {"".join(sounds[at + 2 :])})
    return frozenset(f for f in out if len(f.replace(" ", "")) >= 4)


def pinyin_words(customer_key: str) -> frozenset[str]:
    """The pinyin words among a Chinese name's Latin forms (its city and brand, said aloud)."""
    han = "".join(_HAN.findall(customer_key))
    if len(han) < 6:
        return frozenset()
    return frozenset({_pinyin(han[:2]), _pinyin(han[2:4])})


# Characters Chinese writes foreign names with (the Xinhua transliteration table's common ones):
# a run of three or more of them in a question may be a Latin name said aloud (凯斯勒 Kessler).
_SOUND_CHARS = frozenset(
    "阿埃艾爱安昂奥巴拜班邦鲍贝本比彼宾波伯博布查达戴丹道德登迪蒂丁杜顿多厄恩尔法范菲芬费"
    "夫福弗盖甘戈格根古哈海汉豪赫亨霍基吉加贾杰卡凯坎康考柯科克肯库奎拉莱兰朗劳勒雷里利莉"
    "林琳隆卢鲁伦罗洛玛马迈麦曼梅门蒙米密莫默穆姆纳奈南内尼宁诺欧帕潘佩彭皮珀普奇齐乔切琼"
    "萨塞桑瑟森沙莎舍施什史斯松索塔泰坦汤唐特提汀通图托瓦万威韦维温沃乌西希夏谢辛休雅亚扬"
    "耶伊因尤约泽扎詹兹佐开文"
)
_INITIALS = (
    "zh",
    "ch",
    "sh",
    "b",
    "p",
    "m",
    "f",
    "d",
    "t",
    "n",
    "l",
    "r",
    "g",
    "k",
    "h",
    "j",
    "q",
    "x",
    "z",
    "c",
    "s",
    "w",
    "y",
)
# Sounds Chinese tells apart less finely than English: one class each.
_PINYIN_CLASS = {
    "b": "P",
    "p": "P",
    "m": "M",
    "f": "F",
    "d": "T",
    "t": "T",
    "n": "N",
    "l": "L",
    "r": "L",
    "g": "K",
    "k": "K",
    "h": "H",
    "w": "W",
    "y": "",
    **{i: "S" for i in ("j", "q", "x", "zh", "ch", "sh", "z", "c", "s")},
}
_VOWELS = frozenset("aeiouy")


def _collapse(classes: list[str]) -> str:
    """Classes with repeats in a row read once ("ss", 安妮's two n sounds)."""
    out: list[str] = []
    for c in classes:
        if c and (not out or out[-1] != c):
            out.append(c)
    return "".join(out)


def _syllable_sound(syllable: str) -> list[str]:
    if syllable == "er":
        return ["L"]  # 尔 writes a final l or r ("Hartwell" 哈特威尔)
    initial = next((i for i in _INITIALS if syllable.startswith(i)), "")
    out = [_PINYIN_CLASS[initial]] if initial else []
    if syllable.endswith(("n", "ng")) and len(syllable) > len(initial) + 1:
        out.append("N")
    return out


def han_sound(han: str) -> str:
    """The consonant skeleton of Chinese characters read aloud (凯斯勒 "KSL")."""
    from pypinyin import Style, lazy_pinyin

    parts: list[str] = []
    for syllable in lazy_pinyin(han, style=Style.NORMAL, errors="ignore"):
        parts.extend(_syllable_sound(syllable))
    return _collapse(parts)


@functools.lru_cache(maxsize=100_000)
def latin_sound(word: str) -> str:
    """The consonant skeleton of a Latin word as Chinese would write it ("kessler" "KSL").

    An r before a consonant or at the end is not heard (Markus 马库斯), c and g soften before
    e and i, doubled letters are one sound.
    """
    w = word.lower()
    out: list[str] = []
    i = 0
    while i < len(w):
        ch, nxt = w[i], w[i + 1 : i + 2]
        two = w[i : i + 2]
        if two in ("ph", "th", "sh", "ch", "ck", "gh", "wh", "qu", "ng"):
            out.append(
                {
                    "ph": "F",
                    "th": "T",
                    "sh": "S",
                    "ch": "S",
                    "ck": "K",
                    "gh": "",
                    "wh": "W",
                    "qu": "K",
                    "ng": "N",
                }[two]
            )
            i += 2
            continue
        if ch in _VOWELS or not ch.isalpha():
            out.append("")
        elif ch == "r":
            out.append("L" if nxt and nxt in _VOWELS else "")
        elif ch == "h":
            out.append("H" if nxt and nxt in _VOWELS else "")
        elif ch in "cg":
            out.append("S" if nxt in ("e", "i") else "K")
        elif ch == "x":
            out.extend(["K", "S"])
        else:
            out.append(
                {
                    "b": "P",
                    "p": "P",
                    "d": "T",
                    "t": "T",
                    "k": "K",
                    "q": "K",
                    "f": "F",
                    "v": "W",
                    "w": "W",
                    "l": "L",
                    "m": "M",
                    "n": "N",
                    "s": "S",
                    "z": "S",
                    "j": "S",
                }.get(ch, "")
            )
        i += 1
    # Vowels separate sounds: "t-u-t" is two t sounds, "tt" one.
    merged: list[str] = []
    prev = ""
    for c in out:
        if c and c != prev:
            merged.append(c)
        prev = c
    return "".join(merged)


def sounded_names(text: str) -> set[str]:
    """Skeletons of the runs of transliteration characters in `text` (three sounds or more)."""
    out: set[str] = set()
    run = ""
    for ch in text + " ":
        if ch in _SOUND_CHARS:
            run += ch
            continue
        for i in range(len(run)):
            for j in range(i + 2, min(len(run), i + 6) + 1):
                sound = han_sound(run[i:j])
                if len(sound) >= 3:
                    out.add(sound)
        run = ""
    return out
