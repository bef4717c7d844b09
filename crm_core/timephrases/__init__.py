"""Reading reminder times people type ("tomorrow 3pm", "every monday 9am", "下周二上午10点").

Every computation happens on the user's wall clock (zoneinfo) and results are aware UTC.
Where people are vague, these are the rules (the confirmation reply shows the resolved time,
so a user who meant something else sees it and taps "change"):

- Parts of the day: morning 09:00, noon 12:00, afternoon 14:00, evening 18:00 (傍晚 too),
  tonight / night / 晚上 20:00, end of day / EOD 17:00. 凌晨 needs a clock time.
- Bare hours with no am/pm, no part of the day and no leading zero read on the 24-hour clock
  ("at 8" = 08:00, "at 20" = 20:00, "8点" = 08:00); hours 1-6 read that way are refused as
  ambiguous ("at 3", "3:30", "明天3点"): nobody means 3 a.m., but we do not guess 15:00.
  A plain number is an hour only with "at" or right after a day ("friday 10 meet Bob" = 10:00,
  "tomorrow 3 quotes" is refused as 3 a.m./p.m.); elsewhere it is text ("10 people").
  A part of the day fixes the half: "tonight at 8", "下午3点", "晚上8点半". A clock that
  contradicts its part ("下午13点", "morning 3pm") is refused.
- A clock time or part of the day with no day ("3pm", "noon", "下午3点") is the next one: today
  if still ahead, otherwise tomorrow. "midnight" is the end of the named day (00:00 after it).
- A weekday alone ("friday", "on monday", "this fri", "周五") is the next such day whose time is
  still ahead: "friday 5pm" said on Friday morning is today, said on Friday evening is next
  week; "friday" (09:00) said on Friday at 10:00 is next Friday.
  "next <weekday>" and 下周X are that weekday in next calendar week (weeks start on Monday):
  "next friday" said on Monday is 11 days later, said on Saturday 6 days later. 这周X/本周X is
  this calendar week's day. "next week"/下周 is next Monday; "next month"/下个月 the 1st.
- "end of (the) month"/"eom"/月底 is the last day of the month at the default time (09:00),
  a working day to act before the deadline; "end of week"/"eow" is Friday.
- A day with no time takes `default_time` (09:00). When that day is today and the default time
  has passed ("today" said at 15:10, 月底 on the last afternoon, "this afternoon" at 15:00) the
  reminder comes in about an hour: now + 1h rounded up to the quarter hour (16:15), which may be
  just past midnight when said late at night; `explicit_time` is False so the confirmation can
  offer to change it. A part of the day that is already over ("this morning" at 15:00) is not
  moved: it stays in the past, like "today 5pm" said at 18:00 or "2025-01-01". Callers must
  refuse a `due` that is not after now ("that time has passed"); nothing else returns one.
- Dates without a year ("Dec 3", "12月3日") are this year's unless already past, then next
  year's; a date that does not exist ("Feb 30", "2月30日") is refused. Bare day-of-month
  ("the 15th", "15号") is this month's unless past, then next month's.
- "in 2h", "in 30 minutes", 两小时后, 半小时后 are real durations from now (2 real hours across
  a DST change). "in 3 days", "in a week", 3天后, 一周后, "in 2 months" are calendar days/months
  at the same wall-clock minute as now (or at a named time: "in 3 days at 3pm").
- A wall-clock time that does not exist (02:30 on a spring-forward night in New York) moves
  forward by the length of the gap (03:30, the same as RFC 5545 recurrences); an ambiguous one
  (01:30 on a fall-back night) is the first, daylight-time occurrence (fold=0).
- Recurrences: daily, weekdays (Mon-Fri), weekly on one weekday, monthly on a day (1-31, clamped
  to the month's last day: "every month on the 31st" fires on 28 Feb) or on the last day.

- Slash dates ("12/3", "3/4/2027") are month first, unless the user's locale writes the day
  first (crm_core.date_order.day_first: en-GB, en-AU, en-SG, zh-HK...); the caller passes
  `day_first`.

"yesterday" and "the day before yesterday" are read as those days (in the past: callers refuse
them as above, "that time has passed").

Not supported (read as no time phrase, or refused): word-number clocks ("at eight"), other past
phrases ("last friday"), vague ones ("soon", "someday", "in a few days", 过两天), intervals
("every other monday", "every 2 hours", 隔周), yearly recurrences, start dates on
recurrences, and more than one time phrase combined.

dateparser is not used here: a reminder needs to know which characters were the phrase (to
keep the rest as the reminder text), which `dateparser.parse` cannot say, and
`search_dates` takes ~250 ms and reads "may 3" in "Dana may 3 times" and "sat" in "sat with
her" as dates. The grammar below is small, exact about spans and never guesses.
"""

# The package: core (what phrases are read into), english and chinese (the words, numerals
# included), rules_en and rules_zh (each language's grammar), reading (finding and resolving).

from crm_core.timephrases.core import Recurrence, TimePhrase
from crm_core.timephrases.reading import find_follow_up, read_time_phrase

__all__ = ["Recurrence", "TimePhrase", "find_follow_up", "read_time_phrase"]
