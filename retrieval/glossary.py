"""Words of the notes' trade and their other names, in English and Chinese.

A question may call a thing by another word than its note ("bill" for an invoice, 价格 for
"price", "boss" for the owner): the gate counts a word of the same glossary row as the topic
word itself. The table is para9's (a bilingual glossary of CRM and trade words); here it is
read only by the gate, never by the ranking.
"""

from __future__ import annotations

import functools

from retrieval.tokens import normalize, tokens

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
    ("pay paid payment payments", "付款 支付 付了 结算"),
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
    ("order orders ordered", "订单 下单 订货"),
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
    ("competitor competitors rival rivals", "竞争对手 对手 竞品"),
    ("forecast", "预测"),
    ("requirement requirements", "需求 要求"),
    ("problem problems issue issues", "问题 故障"),
    ("insurance", "保险"),
    ("certificate certification audit", "证书 认证 审核"),
    # people and organisation
    ("buyer purchasing procurement purchaser", "采购"),
    ("manager", "经理"),
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
