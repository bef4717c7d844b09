"""Words of the notes' trade and their other names, in English and Chinese.

A question may call a thing by another word than its note ("bill" for an invoice, 价格 for
"price", "boss" for the owner): the gate counts a word of the same glossary row as the topic
word itself. The table is para9's (a bilingual glossary of CRM and trade words); here it is
read by the gate, and by the ranking to give a question's words in the other language
(`translated`): a note in that language shares none of the question's own words.
"""

from __future__ import annotations

import functools

from retrieval.tokens import has_cjk, normalize, tokens

# English words (any form the stemmer folds together) and the Chinese words they translate.
# Words a question names its customer or asks with (company, what, when) are left out: they
# tell no note apart.
_PAIRS: tuple[tuple[str, str], ...] = (
    # money
    ("price prices priced pricing", "价格 价钱 单价 报价 开价"),
    ("quote quoted quotation offer", "报价 开价 报了"),
    ("cost costs", "成本 费用 花费"),
    ("fee fees charge charges charged", "费用 收费 费"),
    ("discount discounts", "折扣 优惠 打折"),
    ("rebate rebates", "返点 返利"),
    ("compensation compensate reimburse refund refunded payout", "赔偿 补偿 赔了 退款 赔付"),
    ("claim claims", "索赔 理赔"),
    ("invoice invoices invoicing billing bill billed", "发票 开票 账单"),
    ("pay paid payment payments", "付款 支付 付了 结算 账期"),
    ("deposit", "定金 订金 押金"),
    ("budget", "预算"),
    ("contract contracts", "合同 合约"),
    ("surcharge", "附加费"),
    ("penalty penalties fine", "罚款 违约金"),
    ("tax vat", "税 增值税"),
    ("expensive pricier higher", "贵 偏贵 高于"),
    ("cheaper cheap lower", "便宜 低于"),
    ("yuan rmb", "元 人民币"),
    # goods and quantities
    ("pallet pallets skid skids", "托盘 栈板 板"),
    ("container containers box boxes", "货柜 集装箱 柜 箱"),
    ("carton cartons crate crates", "纸箱 箱 筐"),
    ("ton tons tonne tonnes", "吨"),
    ("sample samples", "样品 样本"),
    ("order orders ordered", "订单 下单 订货 订了 订购"),
    ("volume volumes quantity", "数量 量 用量"),
    ("stock inventory", "库存 存货"),
    ("storage store stored storing warehouse warehousing", "仓储 仓库 存放 冷库 库"),
    ("capacity space spots room", "库位 仓位 位置 容量 空间"),
    ("product products", "产品"),
    ("spec specs specification", "规格"),
    ("temperature temp temperatures degrees", "温度 度"),
    ("frozen freezing freezer", "冷冻 速冻 冻"),
    ("chilled cold cooling precool precooling", "冷藏 预冷 冷链"),
    ("logger loggers recorder", "记录仪 温度记录"),
    ("quality defect defects", "质量 品质 缺陷 问题"),
    ("damage damaged broken", "损坏 破损 坏了"),
    ("complaint complaints complained", "投诉 抱怨"),
    ("return returns returned", "退货 退回"),
    ("seafood", "海鲜 海产"),
    ("fish", "鱼"),
    ("flowers flower florist", "花卉 鲜花 花"),
    ("milk dairy", "牛奶 鲜乳 鲜奶 乳业"),
    ("vaccine vaccines", "疫苗"),
    ("medicine drugs pharma", "药品 医药"),
    ("fruit", "水果"),
    ("meat", "肉"),
    # transport
    ("delivery deliveries deliver delivered drop", "配送 送货 交货 送达 到货"),
    ("shipment shipments ship shipped shipping", "发货 出货 运输 货运"),
    ("truck trucks trucking lorry", "卡车 货车 车"),
    ("driver drivers", "司机"),
    ("route routes", "路线 线路"),
    ("trip trips run runs load loads", "趟 车次 车"),
    ("freight logistics transport transportation", "运输 物流 货运"),
    ("customs clearance", "清关 报关 通关"),
    ("port harbor harbour", "港口 码头 港"),
    ("airport", "机场"),
    ("export exports", "出口"),
    ("import imports", "进口"),
    ("late delay delays delayed", "延误 延迟 晚了 推迟"),
    ("punctual", "准时 按时"),
    ("pickup pickups collect collection", "提货 取货"),
    ("waiting waited wait", "等待 等了 等候"),
    # dates and terms
    ("deadline due", "截止 期限 到期"),
    ("week weekly", "周 每周"),
    ("daily", "每天"),
    ("month monthly", "月 每月"),
    ("year annual yearly", "年 每年 全年"),
    ("holiday holidays", "假期 节假日 春节"),
    ("trial pilot", "试用 试点 试运行"),
    ("renewal renew renewed", "续约 续签 续费"),
    ("cancel cancelled canceled cancellation", "取消"),
    ("signed sign", "签约 签了 签署"),
    ("approval approve approved", "审批 批准 同意"),
    ("tender bid bidding", "招标 投标"),
    ("competitor competitors rival rivals", "竞争对手 对手 竞品 别家 同行"),
    ("forecast", "预测"),
    ("requirement requirements", "需求 要求"),
    ("problem problems issue issues", "问题 故障"),
    ("insurance", "保险"),
    ("certificate certification audit", "证书 认证 审核"),
    # people and organisation
    ("buyer purchasing procurement purchaser", "采购"),
    ("manager", "经理 厂长 场长"),
    ("boss owner", "老板"),
    ("director", "总监"),
    ("decision decides decide decider", "拍板 决定 说了算"),
    ("contact contacts", "联系人"),
    ("phone mobile cell", "手机 电话"),
    ("email", "邮件 邮箱"),
    ("address", "地址"),
    ("store stores shop shops outlet", "门店 店 门市"),
    ("branch", "分店 分公司"),
    ("factory plant", "工厂 厂"),
    ("farm ranch", "农场 牧场"),
    ("supermarket", "超市"),
    ("resigned quit left", "离职"),
    ("replaced successor", "接任 接替"),
    ("wife", "太太 老婆 妻子"),
    ("neighbour neighbor neighbouring", "邻居 隔壁 邻村"),
    ("chairman", "理事长 主席 董事长"),
    ("reference", "参考"),
    # machines and their upkeep
    ("machine machines equipment", "机器 设备 机械"),
    ("model models", "型号 机型"),
    ("used secondhand", "二手"),
    ("built manufactured", "出厂 生产"),
    ("warranty guarantee", "保修 质保 保固"),
    ("repair repaired fix fixed maintenance servicing", "维修 修理 保养 维保"),
    ("leak leaking leaks", "漏油 漏水 渗漏"),
    ("worn wear", "磨损"),
    ("part parts spare spares", "配件 零件 备件"),
    ("belt belts", "皮带"),
    ("filter filters", "滤芯 过滤"),
    ("install installed installation commissioning commissioned", "安装 调试"),
    ("demo demonstration", "示范 演示 样机"),
    ("training trained", "培训 教学"),
    ("handover", "交车 交机 交付"),
    ("fuel diesel", "燃油 燃料 柴油"),
    ("hours", "小时 钟头"),
    # farms and what they grow
    ("tractor tractors", "拖拉机 曳引机"),
    ("sprayer sprayers spraying", "喷雾机 喷雾 喷药 打药"),
    ("combine combines", "收割机 收割"),
    ("dryer dryers drier drying", "烘干机 烘干 干燥机 干燥"),
    ("drip irrigation irrigate", "滴灌 灌溉 喷灌 微喷"),
    ("drone drones", "无人机"),
    ("mower mowers", "割草机"),
    ("trailer trailers", "拖车"),
    ("moisture humidity", "水分 含水 湿度"),
    ("hectare hectares", "公顷"),
    ("acre acres", "英亩"),
    ("land area acreage", "面积 土地"),
    ("pond reservoir", "水塘 池塘 水库"),
    ("orchard orchards", "果园"),
    ("vineyard vineyards", "葡萄园"),
    ("rice paddy", "稻米 大米 水稻 稻谷"),
    ("wheat", "小麦"),
    ("grain grains", "粮食 谷物"),
    ("tea", "茶叶 茶园"),
    ("subsidy subsidies grant grants funding", "补贴 补助 资助 基金"),
    ("loan loans financing lender", "贷款 融资"),
    ("margin margins", "利润率 利润 毛利"),
    ("first", "第一 首次 首批 头一"),
    ("quarter quarterly", "季度"),
)


@functools.cache
def _rows() -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """Each row's English stems and Chinese words of two characters.

    A longer Chinese word is indexed as several character pairs ("温度记录": 温度, 度记, 记录):
    read as other names of one another, 温度 would be 记录. A lone character ("元", "吨")
    stands beside every number in Chinese notes.
    """
    out = []
    for english, chinese in _PAIRS:
        stems = frozenset(s for w in english.split() for s in tokens(w, stopwords=False))
        zh = frozenset(normalize(w) for w in chinese.split() if len(w) == 2)
        out.append((stems, zh))
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def equivalents(term: str) -> frozenset[str]:
    """Index terms a glossary row gives `term` as another name (itself left out)."""
    out: set[str] = set()
    for stems, zh in _rows():
        if term in stems or term in zh:
            out |= stems | zh
    out.discard(term)
    return frozenset(out)


@functools.cache
def _tables() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """English stem -> the index terms of its Chinese words, and Chinese word -> stems.

    A lone character ("元", "吨") stands beside every number in Chinese notes: it tells no
    note apart, and would rank every priced note for "price".
    """
    to_zh: dict[str, set[str]] = {}
    to_en: dict[str, set[str]] = {}
    for english, chinese in _PAIRS:
        stems = {s for w in english.split() for s in tokens(w, stopwords=False)}
        words = [normalize(w) for w in chinese.split() if len(w) >= 2]
        terms = {t for w in words for t in tokens(w, stopwords=False) if len(t) >= 2}
        for stem in stems:
            to_zh.setdefault(stem, set()).update(terms)
        for w in words:
            to_en.setdefault(w, set()).update(stems)
    return (
        {k: frozenset(v) for k, v in to_zh.items()},
        {k: frozenset(v) for k, v in to_en.items()},
    )


def translated(question: str) -> list[str]:
    """Index terms, in the other language, of the glossary's words `question` holds.

    English words give Chinese character pairs, Chinese words English stems; a question
    mixing both gives both. Each term once, in the order the question holds its words.
    """
    to_zh, to_en = _tables()
    out: dict[str, None] = {}
    for term in tokens(question):
        if not has_cjk(term):
            out.update(dict.fromkeys(sorted(to_zh.get(term, ()))))
    folded = normalize(question)
    if has_cjk(folded):
        for word, stems in sorted(to_en.items(), key=lambda kv: folded.find(kv[0])):
            if word in folded:
                out.update(dict.fromkeys(sorted(stems)))
    return list(out)
