"""A Chinese company name as an English question writes it: pinyin and English trade words."""

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
}
_LONGEST_FIRST = sorted(_TRADES, key=len, reverse=True)
_HAN = re.compile(r"[\u3400-\u9fff]")


def _pinyin(han: str) -> str:
    """`han` in toneless pinyin, syllables joined ("jinggong")."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(han, style=Style.NORMAL, errors="ignore"))


def _spaced(han: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(han, style=Style.NORMAL, errors="ignore"))


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
        city, brand, trade = han[:2], han[2:4], han[4:]
    elif len(han) >= 4 and trade_words(han[2:]):
        # No city: "华东物流" is "huadong logistics" (the brand alone is too short a name).
        city, brand, trade = "", han[:2], han[2:]
    else:
        return frozenset(out)
    brands = {_pinyin(brand), _spaced(brand)}
    if len(han) >= 6:
        out |= brands
    trades = {*trade_words(trade), _pinyin(trade[:2])}
    for b in brands:
        if city:
            out.add(f"{_pinyin(city)} {b}")
        for t in trades:
            out.add(f"{b} {t}")
            if city:
                out.add(f"{_pinyin(city)} {b} {t}")
    return frozenset(f for f in out if len(f.replace(" ", "")) >= 4)


def pinyin_words(customer_key: str) -> frozenset[str]:
    """The pinyin words among a Chinese name's Latin forms (its city and brand, said aloud)."""
    han = "".join(_HAN.findall(customer_key))
    if len(han) < 6:
        return frozenset()
    return frozenset({_pinyin(han[:2]), _pinyin(han[2:4])})
