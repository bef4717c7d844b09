"""Chinese personal names read in pinyin, so "王伟" can name the staff member "Wang Wei".

Staff are stored with a romanized name; Chinese messages name them in characters ("提醒王伟
周三前..."). This holds the common surnames with their surname readings (单 is "shan" as a
surname); the given name is read by pypinyin, whose dictionary ships inside the package. A name
that does not start with a surname held here names nobody (it is then asked, never guessed).
"""

from __future__ import annotations

import re
from itertools import product

from crm_core.text import to_simplified


def _pairs(table: str) -> dict[str, tuple[str, ...]]:
    """ "王wang 吕lv/lu ..." as {"王": ("wang",), "吕": ("lv", "lu")} (a character or two, then
    its readings)."""
    out: dict[str, tuple[str, ...]] = {}
    for pair in table.split():
        cut = next(i for i, ch in enumerate(pair) if ch.isascii())
        out[pair[:cut]] = tuple(pair[cut:].split("/"))
    return out


# Common surnames (the most frequent ~100), with their surname readings.
_SURNAMES = _pairs(
    """
    王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun
    马ma 朱zhu 胡hu 郭guo 何he 高gao 林lin 罗luo 郑zheng 梁liang 谢xie 宋song
    唐tang 许xu 韩han 冯feng 邓deng 曹cao 彭peng 曾zeng 肖xiao 田tian 董dong
    袁yuan 潘pan 于yu 蒋jiang 蔡cai 余yu 杜du 叶ye 程cheng 苏su 魏wei 吕lv/lu
    丁ding 任ren 沈shen 姚yao 卢lu 姜jiang 崔cui 钟zhong 谭tan 陆lu 汪wang 范fan
    金jin 石shi 廖liao 贾jia 夏xia 韦wei 付fu 傅fu 方fang 白bai 邹zou 孟meng
    熊xiong 秦qin 邱qiu 江jiang 尹yin 薛xue 闫yan 阎yan 段duan 雷lei 侯hou 龙long
    史shi 陶tao 黎li 贺he 顾gu 毛mao 郝hao 龚gong 邵shao 万wan 钱qian 严yan 覃qin
    武wu 戴dai 莫mo 孔kong 向xiang 汤tang 常chang 温wen 康kang 施shi 文wen 牛niu
    樊fan 葛ge 邢xing 安an 齐qi 易yi 乔qiao 伍wu 庞pang 颜yan 倪ni 庄zhuang 聂nie
    章zhang 鲁lu 岳yue 翟zhai 殷yin 詹zhan 申shen 欧阳ouyang 耿geng 关guan 兰lan
    焦jiao 俞yu 左zuo 柳liu 甘gan 祝zhu 包bao 宁ning 尚shang 符fu 舒shu 阮ruan 柯ke
    纪ji 梅mei 童tong 凌ling 毕bi 单shan 季ji 裴pei 霍huo 涂tu 成cheng 苗miao 谷gu
    盛sheng 曲qu 翁weng 冉ran 骆luo 蓝lan 路lu 游you 辛xin 靳jin 管guan 柴chai
    蒙meng 鲍bao 华hua 喻yu 祁qi 房fang 滕teng 屈qu 饶rao 解xie 牟mou 艾ai 尤you
    阳yang 时shi 穆mu 农nong 司si 卓zhuo 古gu 吉ji 缪miao 简jian 车che 项xiang
    连lian 芦lu 麦mai 褚chu 娄lou 窦dou 戚qi 岑cen 景jing 党dang 宫gong 费fei 卜bu
    冷leng 晏yan 席xi 卫wei 米mi 柏bai 宗zong 瞿qu 桂gui 全quan 佟tong 应ying
    臧zang 闵min 苟gou 邬wu 边bian 卞bian 姬ji 师shi 和he 仇qiu 栾luan 隋sui
    商shang 刁diao 沙sha 荣rong 巫wu 寇kou 桑sang 郎lang 甄zhen 丛cong 仲zhong
    虞yu 敖ao 巩gong 明ming 佘she 池chi 查zha 麻ma 苑yuan 迟chi 邝kuang 司马sima
    上官shangguan 诸葛zhuge 东方dongfang 令狐linghu
    """
)


# 王总, 李经理, 张工, 陈生 (Cantonese Mr), 陈太 (Mrs): a Chinese surname and a title name a person.
# Taiwan and Hong Kong add 副总 (vice-president), 主委 (committee chair), 校长, 院长 and the like.
TITLES = (
    "总", "经理", "工", "老师", "主任", "董", "先生", "女士", "小姐", "生", "太", "副总", "主委",
    "校长", "院长", "处长", "科长", "课长", "部长", "厂长", "老板", "医生", "教授", "律师",
    "组长", "主席", "董事长", "总监", "社长", "场主", "班长", "主管",
)  # fmt: skip


def surname_and_title(said: str) -> str | None:
    """The surname of "陈总", "王經理", "欧阳老师" (a surname held here and a title), else None."""
    said = to_simplified(re.sub(r"\s+", "", said))
    for cut in (2, 1):
        if said[:cut] in _SURNAMES and said[cut:] in TITLES:
            return said[:cut]
    return None


def given_readings(ch: str) -> tuple[str, ...]:
    """Every toneless reading of one Han character of a given name ("伟" -> ("wei",)); ü is
    written both "v" and "u", as romanized names spell it either way."""
    # pypinyin loads its dictionary on first import (~0.15 s): only when a Chinese name is read.
    from pypinyin import Style, pinyin

    rows = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    found = rows[0] if rows else []
    out: list[str] = []
    for reading in found:
        for spelt in (reading, reading.replace("v", "u")):
            if spelt not in out:
                out.append(spelt)
    return tuple(out)


def readings(name: str) -> set[str]:
    """The ways `name` (a Chinese personal name) is romanized: "王伟" -> {"wang wei",
    "wei wang"}; empty unless it starts with a surname held here and has one or two Han
    characters after it."""
    name = to_simplified(re.sub(r"\s+", "", name))
    out: set[str] = set()
    for cut in (2, 1):
        surname, given = name[:cut], name[cut:]
        if surname not in _SURNAMES or not 1 <= len(given) <= 2 or not _HAN.fullmatch(given):
            continue
        parts = [given_readings(ch) for ch in given]
        if not all(parts):
            continue
        for family in _SURNAMES[surname]:
            for chars in product(*parts):
                first = "".join(chars)
                out.update({f"{family} {first}", f"{first} {family}"})
    return out


_HAN = re.compile(r"[\u4e00-\u9fff]+")
