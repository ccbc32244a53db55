"""Conversation state: who talks, for how long, over whom, how heated — from events alone.

Time is call audio seconds taken from the events, never a clock. Talk is tracked from VAD
(``SpeechStart``/``SpeechEnd``) when a side has any; a side without VAD events (scripted
tests, other sources) is tracked from its committed words instead.

The floor (who holds the turn) only changes when the other side has talked for
``floor_switch`` seconds in one stretch: a "mm-hmm" does not end a monologue.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, fields

from assist.events import Event, Partial, SpeechEnd, SpeechStart, Word

from .matching import PhraseIndex, TokenStream

SIDES = ("rep", "customer")
INF = math.inf
# How long after a VAD stretch ends its late words may still show an overlap: words commit
# up to ~3 s after they are said when the machine is slow or both sides talk at once.
WORD_LAG = 4.0


@dataclass(frozen=True, slots=True)
class StateSettings:
    """Thresholds of the measurements; trainers may override them in ``[state]``."""

    floor_switch: float = 1.0  # s of talk in one stretch that takes the floor
    turn_gap: float = 5.0  # s of silence from the floor holder that ends their turn
    story_pause: float = 1.5  # customer's story is still open this long after they stop
    share_window: float = 120.0  # s of call over which talk share is measured
    overlap_min: float = 1.5  # s of talking over the other side that counts as interrupting
    vent_window: float = 20.0  # venting: customer talk in the last vent_window s ...
    vent_talk: float = 6.0  # ... is at least vent_talk s, more than the rep's ...
    vent_heat: float = 2.0  # ... and heat is at least vent_heat
    heat_half_life: float = 60.0  # s for a heat word's weight to halve
    heat_trend_window: float = 20.0  # heat_trend = heat now - heat this long ago
    word_activity: float = 0.6  # without VAD, a side counts as talking this long after a word
    curt_answer: float = 1.5  # a customer answer shorter than this ...
    curt_pause: float = 1.0  # ... given after this long a pause counts as curt


SETTING_NAMES = frozenset(f.name for f in fields(StateSettings))

# name -> what it measures; the names rule conditions may use (besides since_<id>).
MEASUREMENTS: dict[str, str] = {
    "call_time": "seconds since the call started",
    "rep_talking": "the rep is talking now (true/false)",
    "customer_talking": "the customer is talking now (true/false)",
    "rep_talk": "seconds the rep has talked in the whole call",
    "customer_talk": "seconds the customer has talked in the whole call",
    "rep_share": "rep's share of the talk over the last share_window seconds (0-1)",
    "window_talk": "seconds of talk (both sides) over the last share_window seconds",
    "rep_monologue": "seconds the rep has held the floor in the current turn (0 if not)",
    "customer_monologue": "seconds the customer has held the floor in the current turn",
    "customer_last_turn": "length in seconds of the customer's turn before the rep took over",
    "response_gap": "pause in seconds before the rep's latest answer (negative: talked over)",
    "rep_over_customer": "seconds the rep has been talking over the customer right now",
    "customer_over_rep": "seconds the customer has been talking over the rep right now",
    "interruptions_by_rep": "times the rep talked over the customer for overlap_min seconds",
    "interruptions_by_customer": "times the customer talked over the rep",
    "customer_story_open": "the customer is mid-turn or paused less than story_pause s",
    "customer_venting": "the customer holds the floor and is heated (see README)",
    "heat": "how heated the customer is (sum of heat word weights, decaying)",
    "heat_trend": "heat now minus heat heat_trend_window seconds ago",
    "questions": "questions the rep has asked (words ending in ?)",
    "customer_curt_answers": "curt customer answers in a row: shorter than curt_answer s, "
    "after a pause of curt_pause s, with a transcribed word (a 3 s answer resets it; needs VAD)",
    "rep_silent": "seconds since the rep last talked",
    "customer_silent": "seconds since the customer last talked",
}
BOOLEAN_MEASUREMENTS = frozenset({"rep_talking", "customer_talking", "customer_story_open", "customer_venting"})

# name -> how a prompt's evidence says a measured value, to the rep at a glance: {s} the
# value in seconds, {pct} as a percentage, {n} a count, {v} as it is. since_<id> is said
# by the engine ("44 s since empathize"). Booleans are not said (the rule's text is).
EVIDENCE: dict[str, str] = {
    "call_time": "{s} into the call",
    "rep_talk": "you have talked {s} in all",
    "customer_talk": "customer has talked {s} in all",
    "rep_share": "you: {pct} of the talk",
    "window_talk": "{s} of talk lately",
    "rep_monologue": "you have talked {s} straight",
    "customer_monologue": "customer has talked {s} straight",
    "customer_last_turn": "customer's last turn {s}",
    "response_gap": "you answered after {s}",
    "rep_over_customer": "you talked over the customer {s}",
    "customer_over_rep": "customer talked over you {s}",
    "interruptions_by_rep": "you interrupted {n} times",
    "interruptions_by_customer": "customer interrupted {n} times",
    "heat": "heat {v}",
    "heat_trend": "heat {v} lately",
    "questions": "{n} questions asked",
    "customer_curt_answers": "{n} curt answers in a row",
    "rep_silent": "you quiet {s}",
    "customer_silent": "customer quiet {s}",
}


@dataclass(frozen=True, slots=True)
class Moment:
    """Something the state noticed that rules can react to (``on = "rep_turn"``)."""

    name: str
    speaker: str
    time: float  # when it was measured (the prompt's trigger_end)
    evidence: str


MOMENTS: dict[str, str] = {
    "rep_turn": "the rep takes the floor after the customer (response_gap is set)",
    "customer_turn": "the customer takes the floor after the rep",
    "rep_talks_over": "the rep has talked over the customer for overlap_min seconds",
    "customer_talks_over": "the customer has talked over the rep for overlap_min seconds",
    "rep_question": "the rep asked a question",
    "call_end": "the call ended",
}


@dataclass
class _Side:
    """Talk activity of one side."""

    vad: bool = False  # VAD events seen: trust them over word timings
    open_since: float | None = None  # VAD segment in progress
    cur: tuple[float, float] | None = None  # word-built segment in progress
    closed: deque[tuple[float, float]] = field(default_factory=deque)
    closed_total: float = 0.0
    last_end: float = -INF
    transcribed: bool = False  # words or partials seen: their times say how long it really talked
    voiced_until: float = -INF  # end of the latest word or partial (call audio time)

    def close(self, start: float, end: float) -> None:
        if end > start:
            self.closed.append((start, end))
            self.closed_total += end - start
        self.last_end = max(self.last_end, end)

    def segment(self, now: float, settings: StateSettings) -> tuple[float, float] | None:
        """The stretch of talk in progress (start, end so far), or None if silent.

        VAD says a stretch is over only some time after it is: "so far" is up to the latest
        word heard in it when the side is transcribed, not up to now — so a short "perfect"
        whose end is reported late is not taken for a long stretch.
        """
        if self.open_since is not None:
            if self.transcribed:
                return (self.open_since, max(self.open_since, min(now, self.voiced_until)))
            return (self.open_since, now)
        if not self.vad and self.cur is not None and now - self.cur[1] < settings.word_activity:
            return self.cur
        return None

    def heard_stretch(self, segment: tuple[float, float] | None, now: float) -> tuple[float, float] | None:
        """The latest stretch of talk as far as its words are in: ``segment`` (the one in
        progress, :meth:`segment`), or a VAD stretch that ended less than ``WORD_LAG`` ago,
        up to its latest word heard.

        Words commit a second or more after they are said, and VAD often ends a stretch
        before its last words are in: an overlap measured only while both stretches are
        open is missed whenever the words come late (on a slower machine, say)."""
        if segment is not None or not self.vad or not self.closed:
            return segment
        start, end = self.closed[-1]
        if now - end >= WORD_LAG:
            return None
        return (start, min(end, max(start, self.voiced_until))) if self.transcribed else (start, end)

    def word(self, start: float, end: float) -> None:
        if self.cur is not None and start <= self.cur[1] + 0.3:
            self.cur = (self.cur[0], max(self.cur[1], end))
            return
        if self.cur is not None:
            self.close(*self.cur)
        self.cur = (start, end)
        self.last_end = max(self.last_end, end)

    def total(self, now: float) -> float:
        extra = 0.0
        if self.open_since is not None:
            extra = max(0.0, now - self.open_since)
        elif self.cur is not None:
            extra = self.cur[1] - self.cur[0]
        return self.closed_total + extra

    def talk_since(self, since: float, now: float) -> float:
        while self.closed and self.closed[0][1] < since - 600:  # keep 10 min for any window
            self.closed.popleft()
        total = 0.0
        for start, end in reversed(self.closed):
            if end <= since:
                break
            total += end - max(start, since)
        if self.open_since is not None:
            total += max(0.0, now - max(self.open_since, since))
        elif self.cur is not None and self.cur[1] > since:
            total += self.cur[1] - max(self.cur[0], since)
        return total

    def last_voiced(self, now: float) -> float:
        if self.open_since is not None:
            return now
        return max(self.last_end, self.cur[1] if self.cur else -INF)


@dataclass(frozen=True, slots=True)
class StateSnapshot:
    """A read-only view for the overlay's meters and the scorecard."""

    now: float
    talk: dict[str, float]
    rep_share: float
    window_talk: float
    monologue: tuple[str | None, float]  # (speaker holding the floor, seconds)
    heat: float
    heat_trend: float
    heat_trend_label: str  # "rising", "falling", "steady"
    questions: int
    overlaps: dict[str, int]  # overlaps started by each side (any length)
    interruptions: dict[str, int]  # overlaps of overlap_min seconds or more, by who talked over
    response_gap: float | None
    customer_story_open: bool
    customer_venting: bool
    stages: dict[str, tuple[int, str]]  # article -> (last step reached, its rule id)


class ConversationState:
    """Updated from every event; ``update`` returns the moments it noticed."""

    def __init__(self, settings: StateSettings | None = None, heat_words: PhraseIndex | None = None,
                 heat_weights: dict[str, float] | None = None) -> None:
        self.settings = settings or StateSettings()
        self.now = 0.0
        self.sides = {side: _Side() for side in SIDES}
        self.floor: str | None = None
        self._last_floor: str | None = None  # who held it before it was released
        self.turn_start = 0.0
        self._prev_turn_start = 0.0
        self.response_gap: float | None = None
        self.customer_last_turn = 0.0
        self.overlaps = {side: 0 for side in SIDES}
        self.interruptions = {side: 0 for side in SIDES}
        self._overlap_seen: dict[str, float] = {}  # side -> start of the segment already counted
        self._interrupt_seen: dict[str, float] = {}
        self.questions = 0
        self.curt_answers = 0
        self._curt_rep_end = -INF
        # A short customer turn counts as a curt answer only once a word of it is committed:
        # voice activity alone is also a cough, an "mm" or the rep's echo on the call line.
        self._curt_pending: tuple[float, float, float] | None = None  # start, end, rep_end
        self._customer_word_start = -INF
        self._heat_index = heat_words or PhraseIndex()
        self._heat_weights = heat_weights or {}
        self._heat_hits: deque[tuple[float, float, str]] = deque()  # time, weight, words said

    # -- updating -----------------------------------------------------------------------
    def update(self, event: Event, stream: TokenStream | None = None, new_tokens: int = 0) -> list[Moment]:
        """Apply one event; ``stream``/``new_tokens`` are the speaker's tokens for a Word."""
        self.now = max(self.now, event.at)
        moments: list[Moment] = []
        if isinstance(event, SpeechStart) and event.speaker in self.sides:
            side = self.sides[event.speaker]
            side.vad = True
            if side.open_since is None:
                side.open_since = event.start
        elif isinstance(event, SpeechEnd) and event.speaker in self.sides:
            side = self.sides[event.speaker]
            side.vad = True
            start = side.open_since if side.open_since is not None else event.start
            side.open_since = None
            if event.speaker == "customer":
                self._count_curt(start, event.end)
            side.close(start, event.end)
            self._maybe_take_floor(event.speaker, start, event.end, moments)
        elif isinstance(event, Partial) and event.speaker in self.sides and event.words:
            side = self.sides[event.speaker]
            side.transcribed = True
            side.voiced_until = max(side.voiced_until, event.words[-1].end)
        elif isinstance(event, Word) and event.speaker in self.sides:
            side = self.sides[event.speaker]
            side.transcribed = True
            side.voiced_until = max(side.voiced_until, event.end)
            if not side.vad:
                side.word(event.start, event.end)
            if event.speaker == "rep" and "?" in event.text:
                self.questions += 1
                moments.append(Moment("rep_question", "rep", event.end, f'rep asked: "{event.text.strip()}"'))
            if event.speaker == "customer":
                self._customer_word_start = event.start
                self._confirm_curt(event.start)
            if event.speaker == "customer" and stream is not None:
                for match in self._heat_index.match_new(stream, new_tokens):
                    self._heat_hits.append((match.end, self._heat_weights.get(match.key, 1.0), match.said))
        self._track_floor_and_overlap(moments)
        return moments

    def _count_curt(self, start: float, end: float) -> None:
        s, rep_end = self.settings, self.sides["rep"].last_end
        self._curt_pending = None
        if end - start < s.curt_answer and start - rep_end >= s.curt_pause and rep_end > self._curt_rep_end:
            self._curt_pending = (start, end, rep_end)
            if self._customer_word_start >= start - 0.5:  # a word of it came before its end
                self._confirm_curt(self._customer_word_start)
        elif end - start >= 2 * s.curt_answer:
            self.curt_answers = 0

    def _confirm_curt(self, word_start: float) -> None:
        if self._curt_pending is None:
            return
        start, end, rep_end = self._curt_pending
        # Whisper stretches a turn's last word, and VAD trims its edges: allow a little slack.
        if start - 0.5 <= word_start <= end + 0.5:
            self._curt_pending = None
            self.curt_answers += 1
            self._curt_rep_end = rep_end  # one curt answer per rep turn

    def _track_floor_and_overlap(self, moments: list[Moment]) -> None:
        s, now = self.settings, self.now
        segments = {name: side.segment(now, s) for name, side in self.sides.items()}
        for name, seg in segments.items():
            if seg is not None:
                self._maybe_take_floor(name, seg[0], seg[1], moments)
        # Release the floor after a long silence: the next stretch starts a new turn.
        if self.floor is not None and now - self.sides[self.floor].last_voiced(now) >= s.turn_gap:
            self._last_floor, self.floor = self.floor, None
        heard = {name: side.heard_stretch(segments[name], now) for name, side in self.sides.items()}
        rep, customer = heard["rep"], heard["customer"]
        if rep is None or customer is None:
            return
        later, earlier = ("rep", "customer") if rep[0] > customer[0] else ("customer", "rep")
        start = heard[later][0]  # type: ignore[index]
        both_until = min(rep[1], customer[1])
        if both_until <= start:
            return  # one ended before the other began, or their words are not in yet
        if self._overlap_seen.get(later) != start:
            self._overlap_seen[later] = start
            self.overlaps[later] += 1
        if both_until - start >= s.overlap_min and self._interrupt_seen.get(later) != start:
            self._interrupt_seen[later] = start
            self.interruptions[later] += 1
            moments.append(Moment(f"{later}_talks_over", later, both_until,
                                  f"{later} talked over the {earlier} for {both_until - start:.1f} s"))

    def _maybe_take_floor(self, name: str, start: float, end: float, moments: list[Moment]) -> None:
        s = self.settings
        if self.floor == name or end - start < s.floor_switch:
            return
        if self.floor is None and self._last_floor == name:
            self.floor, self.turn_start = name, start  # same side again after a long pause
            return
        previous = self.floor if self.floor is not None else self._last_floor
        if previous is not None and start < self.turn_start:
            return  # an old stretch reported late; the floor has moved on since
        self.floor, self._last_floor, self.turn_start = name, name, start
        if previous is None or previous == name:
            return
        other = self.sides[previous]
        other_end = min(other.last_voiced(self.now), self.now)
        if name == "rep":
            self.response_gap = start - other_end if other.segment(self.now, s) is None else start - self.now
            self.customer_last_turn = max(0.0, other_end - self._prev_turn_start)
            moments.append(Moment("rep_turn", "rep", self.now,
                                  f"rep answered after {self.response_gap:.2f} s "
                                  f"(customer had talked {self.customer_last_turn:.0f} s)"))
        else:
            moments.append(Moment("customer_turn", "customer", self.now, "customer took the floor"))
        self._prev_turn_start = start

    # -- reading --------------------------------------------------------------------------
    def heat(self, at: float | None = None) -> float:
        at = self.now if at is None else at
        half = self.settings.heat_half_life
        while self._heat_hits and self._heat_hits[0][0] < at - 8 * half:
            self._heat_hits.popleft()
        return sum(w * 0.5 ** ((at - t) / half) for t, w, _ in self._heat_hits if t <= at)

    def story_open(self, at: float | None = None) -> bool:
        """The customer is mid-turn at ``at`` or stopped less than story_pause before it."""
        at = self.now if at is None else at
        customer = self.sides["customer"]
        seg = customer.segment(self.now, self.settings)
        if seg is not None and seg[0] <= at:
            return True
        return customer.last_end >= at - self.settings.story_pause

    def values(self, at: float | None = None) -> dict[str, float | bool]:
        """Every measurement by name (see MEASUREMENTS); ``at`` dates customer_story_open."""
        s, now = self.settings, self.now
        rep, customer = self.sides["rep"], self.sides["customer"]
        window_start = now - s.share_window
        rep_window, customer_window = rep.talk_since(window_start, now), customer.talk_since(window_start, now)
        window_talk = rep_window + customer_window
        segs = {name: side.segment(now, s) for name, side in self.sides.items()}
        heat = self.heat()
        vent_start = now - s.vent_window
        c_recent, r_recent = customer.talk_since(vent_start, now), rep.talk_since(vent_start, now)
        return {
            "call_time": now,
            "rep_talking": segs["rep"] is not None,
            "customer_talking": segs["customer"] is not None,
            "rep_talk": rep.total(now),
            "customer_talk": customer.total(now),
            "rep_share": rep_window / window_talk if window_talk else 0.0,
            "window_talk": window_talk,
            "rep_monologue": self.monologue("rep"),
            "customer_monologue": self.monologue("customer"),
            "customer_last_turn": self.customer_last_turn,
            "response_gap": self.response_gap if self.response_gap is not None else INF,
            "rep_over_customer": self._over(segs, "rep", "customer"),
            "customer_over_rep": self._over(segs, "customer", "rep"),
            "interruptions_by_rep": self.interruptions["rep"],
            "interruptions_by_customer": self.interruptions["customer"],
            "customer_story_open": self.story_open(at),
            "customer_venting": c_recent >= s.vent_talk and c_recent > r_recent and heat >= s.vent_heat,
            "heat": heat,
            "heat_trend": heat - self.heat(now - s.heat_trend_window),
            "questions": self.questions,
            "customer_curt_answers": self.curt_answers,
            "rep_silent": now - rep.last_voiced(now),
            "customer_silent": now - customer.last_voiced(now),
        }

    def monologue(self, name: str) -> float:
        """How long ``name`` has held the floor, up to when it last spoke: the floor passes
        only after the other side has talked a while (floor_switch), and that wait, or the
        holder's own silence, is not the holder talking."""
        if self.floor != name:
            return 0.0
        return max(0.0, min(self.now, self.sides[name].last_voiced(self.now)) - self.turn_start)

    def _over(self, segs: dict, name: str, other: str) -> float:
        mine, theirs = segs[name], segs[other]
        if mine is None or theirs is None or mine[0] <= theirs[0]:
            return 0.0
        return max(0.0, min(mine[1], theirs[1]) - mine[0])

    def snapshot(self, stages: dict[str, tuple[int, str]] | None = None) -> StateSnapshot:
        v = self.values()
        trend = float(v["heat_trend"])
        return StateSnapshot(
            now=self.now,
            talk={"rep": float(v["rep_talk"]), "customer": float(v["customer_talk"])},
            rep_share=float(v["rep_share"]),
            window_talk=float(v["window_talk"]),
            monologue=(self.floor, self.monologue(self.floor) if self.floor else 0.0),
            heat=float(v["heat"]),
            heat_trend=trend,
            heat_trend_label="rising" if trend > 0.5 else "falling" if trend < -0.5 else "steady",
            questions=self.questions,
            overlaps=dict(self.overlaps),
            interruptions=dict(self.interruptions),
            response_gap=self.response_gap,
            customer_story_open=bool(v["customer_story_open"]),
            customer_venting=bool(v["customer_venting"]),
            stages=dict(stages or {}),
        )


__all__ = ["ConversationState", "MEASUREMENTS", "MOMENTS", "Moment", "StateSettings", "StateSnapshot"]
