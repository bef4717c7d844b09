"""Chinese personal names read in pinyin, so "王伟" can name the staff member "Wang Wei".

Staff are stored with a romanized name; Chinese messages name them in characters ("提醒王伟
周三前..."). This holds the pinyin (no tones) of the common surnames and of characters common
in given names; a name with a character not held here names nobody (it is then asked, never
guessed).
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

# Characters common in given names.
_GIVEN = _pairs(
    """
    伟wei 芳fang 娜na 敏min 静jing 丽li 强qiang 磊lei 军jun 洋yang 勇yong 艳yan
    杰jie 娟juan 涛tao 明ming 超chao 秀xiu 霞xia 平ping 刚gang 桂gui 英ying 华hua
    玉yu 兰lan 萍ping 红hong 建jian 文wen 辉hui 力li 林lin 鹏peng 斌bin 宇yu 浩hao
    凯kai 秀xiu 峰feng 俊jun 飞fei 鑫xin 波bo 宁ning 丹dan 晨chen 琳lin 雪xue
    婷ting 颖ying 倩qian 慧hui 佳jia 欣xin 悦yue 梅mei 燕yan 莉li 琴qin 云yun
    莹ying 晶jing 蕾lei 薇wei 璐lu 露lu 瑶yao 怡yi 嘉jia 子zi 梓zi 涵han 睿rui
    轩xuan 博bo 豪hao 然ran 一yi 诗shi 思si 雨yu 欢huan 乐le 天tian 志zhi 国guo
    海hai 东dong 春chun 秋qiu 冬dong 亮liang 成cheng 龙long 虎hu 彪biao 新xin
    民min 生sheng 荣rong 庆qing 福fu 贵gui 财cai 德de 仁ren 义yi 礼li 智zhi 信xin
    忠zhong 孝xiao 安an 康kang 健jian 永yong 长chang 金jin 银yin 宝bao 珠zhu
    凤feng 兵bing 武wu 彬bin 帅shuai 晓xiao 小xiao 大da 海hai 江jiang 山shan
    川chuan 河he 阳yang 光guang 辰chen 星xing 月yue 日ri 清qing 青qing 晴qing 琪qi
    祺qi 婉wan 媛yuan 蓉rong 琼qiong 瑞rui 祥xiang 昊hao 旭xu 磊lei 晖hui 伦lun
    振zhen 泽ze 宏hong 鸿hong 毅yi 骏jun 坤kun 恒heng 铭ming 楠nan 南nan 北bei 西xi
    冰bing 岩yan 松song 柏bai 杨yang 桐tong 森sen 淼miao 鹤he 鸣ming 凡fan 帆fan
    航hang 勤qin 俭jian 益yi 达da 通tong 立li 玲ling 芬fen 芝zhi 翠cui 妹mei 琦qi
    菲fei 蕊rui 馨xin 洁jie 淑shu 惠hui 贤xian 珍zhen 爱ai 亚ya 希xi 茜qian 倩qian
    卓zhuo 越yue 锋feng 钢gang 铁tie 鹰ying 雄xiong 奇qi 君jun 蔚wei 维wei 为wei
    威wei 卫wei 玮wei 炜wei 盼pan 叶ye 晗han 啸xiao 笑xiao 韬tao 哲zhe 朗lang 峻jun
    继ji 家jia 宗zong 祖zu 耀yao
    """
)


def readings(name: str) -> set[str]:
    """The ways `name` (a Chinese personal name) is romanized: "王伟" -> {"wang wei",
    "wei wang"}; empty when a character is not held here."""
    name = to_simplified(re.sub(r"\s+", "", name))
    out: set[str] = set()
    for cut in (2, 1):
        surname, given = name[:cut], name[cut:]
        if surname not in _SURNAMES or not 1 <= len(given) <= 2:
            continue
        parts = [_GIVEN.get(ch) for ch in given]
        if any(p is None for p in parts):
            continue
        for family in _SURNAMES[surname]:
            for chars in product(*(p for p in parts if p is not None)):
                first = "".join(chars)
                out.update({f"{family} {first}", f"{first} {family}"})
    return out
