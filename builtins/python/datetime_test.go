package python

import (
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// The expected values are what CPython 3.11 prints (repr or str) for the
// same expression, run with TZ=UTC; see the tests' use of time.Local.

func datetimeEnv() starlark.StringDict {
	m := DatetimeModule()
	env := starlark.StringDict{}
	for _, name := range []string{"datetime", "date", "timezone", "timedelta", "UTC"} {
		env[name] = m.Members[name]
	}
	return env
}

// withUTCLocal makes naive local-time conversions run in UTC, as the
// CPython expectations were computed with TZ=UTC.
func withUTCLocal(t *testing.T) {
	t.Helper()
	saved := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = saved })
}

func TestDatetimeValues(t *testing.T) {
	withUTCLocal(t)
	env := datetimeEnv()
	for _, tc := range []struct {
		expr string
		repr bool // compare repr(v), else str(v)
		want string
	}{
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone.utc)", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=datetime.timezone.utc)"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone.utc)", false, "2024-01-02 03:04:05.600000+00:00"},
		{"datetime(2024, 1, 2)", true, "datetime.datetime(2024, 1, 2, 0, 0)"},
		{"datetime(2024, 1, 2, 3, 4)", true, "datetime.datetime(2024, 1, 2, 3, 4)"},
		{"datetime(2024, 1, 2, 3, 4, 5)", true, "datetime.datetime(2024, 1, 2, 3, 4, 5)"},
		{"datetime(2024, 1, 2, 3, 4, 0, 7)", true, "datetime.datetime(2024, 1, 2, 3, 4, 0, 7)"},
		{"datetime(2024, 1, 2, 3, 4, 5)", false, "2024-01-02 03:04:05"},
		{"datetime(2024, 1, 2, 0, 0, 0, 1)", false, "2024-01-02 00:00:00.000001"},
		{"datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=-5)))", true, "datetime.datetime(2024, 1, 2, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))"},
		{"datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=5, minutes=30), 'IST'))", true, "datetime.datetime(2024, 1, 2, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800), 'IST'))"},
		{"datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=5, minutes=30), 'IST'))", false, "2024-01-02 00:00:00+05:30"},
		{"datetime(2024, 1, 2, tzinfo=UTC)", false, "2024-01-02 00:00:00+00:00"},
		{"datetime.min", true, "datetime.datetime(1, 1, 1, 0, 0)"},
		{"datetime.max", true, "datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)"},
		{"date.min", true, "datetime.date(1, 1, 1)"},
		{"date.max", true, "datetime.date(9999, 12, 31)"},
		{"date(2024, 1, 2)", true, "datetime.date(2024, 1, 2)"},
		{"date(2024, 1, 2)", false, "2024-01-02"},
		{"date(2024, 1, 2).year + date(2024, 1, 2).month", true, "2025"},
		{"timezone.utc", true, "datetime.timezone.utc"},
		{"timezone.utc", false, "UTC"},
		{"UTC", true, "datetime.timezone.utc"},
		{"timezone(timedelta(0))", true, "datetime.timezone.utc"},
		{"timezone(timedelta(hours=1))", true, "datetime.timezone(datetime.timedelta(seconds=3600))"},
		{"timezone(timedelta(hours=1))", false, "UTC+01:00"},
		{"timezone(timedelta(hours=1), 'CET')", true, "datetime.timezone(datetime.timedelta(seconds=3600), 'CET')"},
		{"timezone(timedelta(hours=1), 'CET')", false, "CET"},
		{"timezone(timedelta(hours=-5))", true, "datetime.timezone(datetime.timedelta(days=-1, seconds=68400))"},
		{"timezone(timedelta(hours=-5))", false, "UTC-05:00"},
		{"timezone(timedelta(seconds=3630))", false, "UTC+01:00:30"},
		{"timezone(timedelta(0), 'UTC')", true, "datetime.timezone(datetime.timedelta(0), 'UTC')"},
		{"timezone(timedelta(hours=1)) == timezone(timedelta(minutes=60), 'X')", true, "True"},
		{"timezone(timedelta(hours=1)).utcoffset(None)", true, "datetime.timedelta(seconds=3600)"},
		{"timezone(timedelta(hours=-3)).tzname(None)", true, "'UTC-03:00'"},
		{"timezone.utc.tzname(None)", true, "'UTC'"},
		{"timezone.max", true, "datetime.timezone(datetime.timedelta(seconds=86340))"},
		{"timezone.min", true, "datetime.timezone(datetime.timedelta(days=-1, seconds=60))"},
		{"timedelta(seconds=5)", false, "0:00:05"},
		{"timedelta(days=1, hours=2, minutes=3, seconds=4, microseconds=500000)", false, "1 day, 2:03:04.500000"},
		{"timedelta(seconds=-1)", false, "-1 day, 23:59:59"},
		{"timedelta(days=2)", false, "2 days, 0:00:00"},
		{"timedelta(days=-3, hours=5)", false, "-3 days, 5:00:00"},
		{"timedelta(0)", false, "0:00:00"},
		{"timedelta(microseconds=1)", false, "0:00:00.000001"},
		{"timedelta(days=1, seconds=5)", true, "datetime.timedelta(days=1, seconds=5)"},
		{"timedelta(0)", true, "datetime.timedelta(0)"},
		{"timedelta(microseconds=-1)", true, "datetime.timedelta(days=-1, seconds=86399, microseconds=999999)"},
		{"timedelta(days=400)", false, "400 days, 0:00:00"},
		{"timedelta(hours=-25)", true, "datetime.timedelta(days=-2, seconds=82800)"},
		{"datetime.fromtimestamp(1700000000, tz=timezone.utc)", true, "datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(1700000000, timezone(timedelta(hours=-5)))", true, "datetime.datetime(2023, 11, 14, 17, 13, 20, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))"},
		{"datetime.fromtimestamp(1700000000, timezone(timedelta(hours=5, minutes=30)))", true, "datetime.datetime(2023, 11, 15, 3, 43, 20, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))"},
		{"datetime.fromtimestamp(1700000000, timezone(timedelta(hours=5, minutes=30)))", false, "2023-11-15 03:43:20+05:30"},
		{"datetime.fromtimestamp(1700000000.1234565, tz=timezone.utc)", true, "datetime.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(1700000000.1234575, tz=timezone.utc)", true, "datetime.datetime(2023, 11, 14, 22, 13, 20, 123457, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(1700000000.9999996, tz=timezone.utc)", true, "datetime.datetime(2023, 11, 14, 22, 13, 21, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(0.5, tz=timezone.utc)", true, "datetime.datetime(1970, 1, 1, 0, 0, 0, 500000, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(-1.5, tz=timezone.utc)", true, "datetime.datetime(1969, 12, 31, 23, 59, 58, 500000, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(-0.0000005, tz=timezone.utc)", true, "datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(-0.0000015, tz=timezone.utc)", true, "datetime.datetime(1969, 12, 31, 23, 59, 59, 999998, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(1e-7, tz=timezone.utc)", true, "datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(1700000000)", true, "datetime.datetime(2023, 11, 14, 22, 13, 20)"},
		{"datetime.fromtimestamp(1700000000.25)", true, "datetime.datetime(2023, 11, 14, 22, 13, 20, 250000)"},
		{"datetime.utcfromtimestamp(1700000000)", true, "datetime.datetime(2023, 11, 14, 22, 13, 20)"},
		{"datetime.utcfromtimestamp(1700000000.000001)", true, "datetime.datetime(2023, 11, 14, 22, 13, 20, 1)"},
		{"datetime.utcfromtimestamp(-86400 * 365)", true, "datetime.datetime(1969, 1, 1, 0, 0)"},
		{"datetime.utcfromtimestamp(0)", false, "1970-01-01 00:00:00"},
		{"datetime.fromtimestamp(253402300799, tz=timezone.utc)", true, "datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromtimestamp(-62135596800, tz=timezone.utc)", true, "datetime.datetime(1, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)"},
		{"date.fromtimestamp(1700000000.9)", true, "datetime.date(2023, 11, 14)"},
		{"datetime(2024, 1, 2, 3, 4, 5).isoformat()", true, "'2024-01-02T03:04:05'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000).isoformat()", true, "'2024-01-02T03:04:05.600000'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone.utc).isoformat()", true, "'2024-01-02T03:04:05.600000+00:00'"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))).isoformat()", true, "'2024-01-02T03:04:05-05:00'"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))).isoformat()", true, "'2024-01-02T03:04:05+05:30:15'"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(microseconds=-1))).isoformat()", true, "'2024-01-02T03:04:05-00:00:00.000001'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000).isoformat(sep=' ')", true, "'2024-01-02 03:04:05.600000'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000).isoformat(' ', 'seconds')", true, "'2024-01-02 03:04:05'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000).isoformat(timespec='seconds')", true, "'2024-01-02T03:04:05'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 678900).isoformat(timespec='milliseconds')", true, "'2024-01-02T03:04:05.678'"},
		{"datetime(2024, 1, 2, 3, 4, 5).isoformat(timespec='microseconds')", true, "'2024-01-02T03:04:05.000000'"},
		{"datetime(2024, 1, 2, 3, 4, 5).isoformat(timespec='hours')", true, "'2024-01-02T03'"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat(timespec='minutes')", true, "'2024-01-02T03:04+00:00'"},
		{"datetime(5, 1, 2).isoformat()", true, "'0005-01-02T00:00:00'"},
		{"date(2024, 1, 2).isoformat()", true, "'2024-01-02'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone.utc).timestamp()", true, "1704164645.6"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))).timestamp()", true, "1704182645.0"},
		{"datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc).timestamp()", true, "-1e-06"},
		{"datetime(1, 1, 1, tzinfo=timezone.utc).timestamp()", true, "-62135596800.0"},
		{"datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc).timestamp()", true, "253402300800.0"},
		{"datetime(2024, 1, 2, 3, 4, 5, 100000).timestamp()", true, "1704164645.1"},
		{"datetime.fromtimestamp(1700000000.123456, tz=UTC).timestamp()", true, "1700000000.123456"},
		{"datetime(2024, 2, 28, 23, 0) + timedelta(hours=1)", true, "datetime.datetime(2024, 2, 29, 0, 0)"},
		{"datetime(2024, 2, 28, 23, 0) + timedelta(days=1, hours=1)", true, "datetime.datetime(2024, 3, 1, 0, 0)"},
		{"datetime(2023, 2, 28, 23, 0) + timedelta(hours=1)", true, "datetime.datetime(2023, 3, 1, 0, 0)"},
		{"datetime(2023, 12, 31, 23, 59, 59, 999999) + timedelta(microseconds=1)", true, "datetime.datetime(2024, 1, 1, 0, 0)"},
		{"timedelta(days=366) + datetime(2024, 1, 1)", true, "datetime.datetime(2025, 1, 1, 0, 0)"},
		{"datetime(2024, 3, 1) - timedelta(days=1)", true, "datetime.datetime(2024, 2, 29, 0, 0)"},
		{"datetime(2024, 3, 1, tzinfo=UTC) - timedelta(seconds=1)", true, "datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=datetime.timezone.utc)"},
		{"datetime(2024, 1, 31) + timedelta(days=1)", true, "datetime.datetime(2024, 2, 1, 0, 0)"},
		{"datetime(2024, 3, 1) - datetime(2024, 2, 1)", true, "datetime.timedelta(days=29)"},
		{"datetime(2024, 3, 1) - datetime(2024, 2, 1)", false, "29 days, 0:00:00"},
		{"datetime(2024, 2, 1) - datetime(2024, 3, 1, 0, 0, 0, 1)", true, "datetime.timedelta(days=-30, seconds=86399, microseconds=999999)"},
		{"datetime(2024, 2, 1) - datetime(2024, 3, 1, 0, 0, 0, 1)", false, "-30 days, 23:59:59.999999"},
		{"datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))) - datetime(2024, 1, 1, 12, tzinfo=UTC)", true, "datetime.timedelta(days=-1, seconds=79200)"},
		{"(datetime(2024, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()", true, "1704067200.0"},
		{"date(2024, 2, 28) + timedelta(days=1)", true, "datetime.date(2024, 2, 29)"},
		{"date(2024, 2, 28) + timedelta(hours=47)", true, "datetime.date(2024, 2, 29)"},
		{"date(2024, 3, 1) - timedelta(days=1)", true, "datetime.date(2024, 2, 29)"},
		{"date(2024, 3, 1) - timedelta(hours=1)", true, "datetime.date(2024, 3, 1)"},
		{"date(2024, 3, 1) - timedelta(hours=-1)", true, "datetime.date(2024, 3, 2)"},
		{"date(2025, 1, 1) - date(2024, 1, 1)", true, "datetime.timedelta(days=366)"},
		{"date(2024, 1, 1) - date(2025, 1, 1)", false, "-366 days, 0:00:00"},
		{"datetime(2024, 1, 1) == datetime(2024, 1, 1, tzinfo=UTC)", true, "False"},
		{"datetime(2024, 1, 1) != datetime(2024, 1, 1, tzinfo=UTC)", true, "True"},
		{"datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))) == datetime(2024, 1, 1, 10, tzinfo=UTC)", true, "True"},
		{"datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))) < datetime(2024, 1, 1, 11, tzinfo=UTC)", true, "True"},
		{"datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))) > datetime(2024, 1, 1, 11, tzinfo=UTC)", true, "False"},
		{"datetime(2024, 1, 1) < datetime(2024, 1, 1, 0, 0, 0, 1)", true, "True"},
		{"datetime(2024, 1, 1) >= datetime(2024, 1, 1)", true, "True"},
		{"date(2024, 1, 1) < date(2024, 1, 2)", true, "True"},
		{"date(2024, 1, 1) == date(2024, 1, 1)", true, "True"},
		{"datetime(2024, 1, 1) == date(2024, 1, 1)", true, "False"},
		{"len(dict([(datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))), 1), (datetime(2024, 1, 1, 10, tzinfo=UTC), 2)]))", true, "1"},
		{"datetime(2024, 1, 2, 3, 4, 5, 6).microsecond", true, "6"},
		{"datetime(2024, 1, 2, 3, 4, 5, 6).tzinfo", true, "None"},
		{"datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=1))).tzinfo", true, "datetime.timezone(datetime.timedelta(seconds=3600))"},
		{"datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=1))).utcoffset()", true, "datetime.timedelta(seconds=3600)"},
		{"datetime(2024, 1, 2).utcoffset()", true, "None"},
		{"datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=1))).tzname()", true, "'UTC+01:00'"},
		{"datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=1), 'CET')).tzname()", true, "'CET'"},
		{"datetime(2024, 1, 2).tzname()", true, "None"},
		{"datetime(2024, 1, 2, 3, 4).date()", true, "datetime.date(2024, 1, 2)"},
		{"datetime(2024, 1, 2).weekday()", true, "1"},
		{"datetime(2024, 1, 7).isoweekday()", true, "7"},
		{"date(2024, 1, 7).weekday()", true, "6"},
		{"date(2024, 1, 2).isoweekday()", true, "2"},
		{"datetime(2024, 1, 2).toordinal()", true, "738887"},
		{"date(1, 1, 1).toordinal()", true, "1"},
		{"date(9999, 12, 31).toordinal()", true, "3652059"},
		{"datetime(2024, 1, 2, 3, 4, 5).ctime()", true, "'Tue Jan  2 03:04:05 2024'"},
		{"date(2024, 1, 12).ctime()", true, "'Fri Jan 12 00:00:00 2024'"},
		{"datetime(2024, 1, 31, 3, 4, 5, 6, tzinfo=UTC).replace(day=29, month=2, microsecond=0)", true, "datetime.datetime(2024, 2, 29, 3, 4, 5, tzinfo=datetime.timezone.utc)"},
		{"datetime(2024, 1, 31, 3, 4, 5, tzinfo=UTC).replace(tzinfo=None)", true, "datetime.datetime(2024, 1, 31, 3, 4, 5)"},
		{"datetime(2024, 1, 31, 3, 4, 5).replace(tzinfo=timezone(timedelta(hours=3)))", true, "datetime.datetime(2024, 1, 31, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(seconds=10800)))"},
		{"datetime(2024, 1, 31, 3, 4, 5).replace(year=2025, hour=23)", true, "datetime.datetime(2025, 1, 31, 23, 4, 5)"},
		{"date(2024, 2, 29).replace(year=2028)", true, "datetime.date(2028, 2, 29)"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))).astimezone(timezone.utc)", true, "datetime.datetime(2024, 1, 2, 8, 4, 5, tzinfo=datetime.timezone.utc)"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).astimezone(timezone(timedelta(hours=5, minutes=30)))", true, "datetime.datetime(2024, 1, 2, 8, 34, 5, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))"},
		{"datetime(2024, 1, 2, 3, 4, 5).astimezone(timezone.utc)", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)"},
		{"datetime(2024, 1, 2, 3, 4, 5).astimezone()", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))"},
		{"datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))).astimezone()", true, "datetime.datetime(2024, 1, 2, 8, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))"},
		{"datetime.fromordinal(738887)", true, "datetime.datetime(2024, 1, 2, 0, 0)"},
		{"date.fromordinal(738887)", true, "datetime.date(2024, 1, 2)"},
		{"datetime(2024, 12, 30).isocalendar()[1]", true, "1"},
		{"datetime.fromisoformat('2024-01-02T03:04:05')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5)"},
		{"datetime.fromisoformat('2024-01-02 03:04:05.600000')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 600000)"},
		{"datetime.fromisoformat('2024-01-02T03:04:05.6')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 600000)"},
		{"datetime.fromisoformat('2024-01-02T03:04:05.1234567')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 123456)"},
		{"datetime.fromisoformat('2024-01-02T03:04:05Z')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromisoformat('2024-01-02T03:04:05.123Z')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromisoformat('2024-01-02T03:04:05+05:30')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))"},
		{"datetime.fromisoformat('2024-01-02T03:04:05-05:00')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))"},
		{"datetime.fromisoformat('2024-01-02T03:04:05+00:00')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)"},
		{"datetime.fromisoformat('2024-01-02T03:04+0530')", true, "datetime.datetime(2024, 1, 2, 3, 4, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))"},
		{"datetime.fromisoformat('2024-01-02T03')", true, "datetime.datetime(2024, 1, 2, 3, 0)"},
		{"datetime.fromisoformat('2024-01-02T0304')", true, "datetime.datetime(2024, 1, 2, 3, 4)"},
		{"datetime.fromisoformat('2024-01-02')", true, "datetime.datetime(2024, 1, 2, 0, 0)"},
		{"datetime.fromisoformat('20240102T030405')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5)"},
		{"datetime.fromisoformat('2024-W01-2T10:00')", true, "datetime.datetime(2024, 1, 2, 10, 0)"},
		{"datetime.fromisoformat('2024-01-02T03:04:05,5+01:00:30.5')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=datetime.timezone(datetime.timedelta(seconds=3630, microseconds=500000)))"},
		{"datetime.fromisoformat(datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=-5))).isoformat())", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))"},
		{"datetime.fromisoformat(str(datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)))", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)"},
		{"date.fromisoformat('2024-01-02')", true, "datetime.date(2024, 1, 2)"},
		{"date.fromisoformat('20240102')", true, "datetime.date(2024, 1, 2)"},
		{"date.fromisoformat('2024-W01')", true, "datetime.date(2024, 1, 1)"},
		{"datetime.strptime('2024-01-02 03:04:05', '%Y-%m-%d %H:%M:%S')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5)"},
		{"datetime.strptime('2024-01-02T03:04:05.123Z', '%Y-%m-%dT%H:%M:%S.%f%z')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=datetime.timezone.utc)"},
		{"datetime.strptime('2024-01-02 03:04:05 +0530', '%Y-%m-%d %H:%M:%S %z')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(seconds=19800)))"},
		{"datetime.strptime('2024-01-02 03:04:05 -05:00', '%Y-%m-%d %H:%M:%S %z')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400)))"},
		{"datetime.strptime('02/01/24 11:30 PM', '%d/%m/%y %I:%M %p')", true, "datetime.datetime(2024, 1, 2, 23, 30)"},
		{"datetime.strptime('12 am', '%I %p')", true, "datetime.datetime(1900, 1, 1, 0, 0)"},
		{"datetime.strptime('12', '%I')", true, "datetime.datetime(1900, 1, 1, 0, 0)"},
		{"datetime.strptime('Tue, 02 January 2024', '%a, %d %B %Y')", true, "datetime.datetime(2024, 1, 2, 0, 0)"},
		{"datetime.strptime('tuesday 2 jan 69', '%A %d %b %y')", true, "datetime.datetime(1969, 1, 2, 0, 0)"},
		{"datetime.strptime('2024 60', '%Y %j')", true, "datetime.datetime(2024, 2, 29, 0, 0)"},
		{"datetime.strptime('10%', '%d%%')", true, "datetime.datetime(1900, 1, 10, 0, 0)"},
		{"datetime.strptime('  2024   1  2', ' %Y %m %d')", true, "datetime.datetime(2024, 1, 2, 0, 0)"},
		{"datetime.strptime('5', '%f')", true, "datetime.datetime(1900, 1, 1, 0, 0, 0, 500000)"},
		{"datetime.strptime('2024-01-02 UTC +0000', '%Y-%m-%d %Z %z')", true, "datetime.datetime(2024, 1, 2, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(0), 'UTC'))"},
		{"datetime.strptime('2024 1 0', '%Y %W %w')", true, "datetime.datetime(2024, 1, 7, 0, 0)"},
		{"datetime.strptime('2024 1 0', '%Y %U %w')", true, "datetime.datetime(2024, 1, 7, 0, 0)"},
		{"datetime.strptime('2024 01 1', '%G %V %u')", true, "datetime.datetime(2024, 1, 1, 0, 0)"},
		{"datetime.strptime('Tue Jan  2 03:04:05 2024', '%c')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5)"},
		{"datetime.strptime('01/02/24 03:04:05', '%x %X')", true, "datetime.datetime(2024, 1, 2, 3, 4, 5)"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%a')", true, "'Tue'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%a')", true, "'Tue'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%a')", true, "'Sat'"},
		{"date(2024, 7, 4).strftime('%a')", true, "'Thu'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%A')", true, "'Tuesday'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%A')", true, "'Tuesday'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%A')", true, "'Saturday'"},
		{"date(2024, 7, 4).strftime('%A')", true, "'Thursday'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%w')", true, "'2'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%w')", true, "'2'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%w')", true, "'6'"},
		{"date(2024, 7, 4).strftime('%w')", true, "'4'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%d')", true, "'02'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%d')", true, "'02'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%d')", true, "'31'"},
		{"date(2024, 7, 4).strftime('%d')", true, "'04'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%b')", true, "'Jan'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%b')", true, "'Jan'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%b')", true, "'Dec'"},
		{"date(2024, 7, 4).strftime('%b')", true, "'Jul'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%B')", true, "'January'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%B')", true, "'January'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%B')", true, "'December'"},
		{"date(2024, 7, 4).strftime('%B')", true, "'July'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%m')", true, "'01'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%m')", true, "'01'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%m')", true, "'12'"},
		{"date(2024, 7, 4).strftime('%m')", true, "'07'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%y')", true, "'24'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%y')", true, "'24'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%y')", true, "'05'"},
		{"date(2024, 7, 4).strftime('%y')", true, "'24'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%Y')", true, "'2024'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%Y')", true, "'2024'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%Y')", true, "'5'"},
		{"date(2024, 7, 4).strftime('%Y')", true, "'2024'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%H')", true, "'15'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%H')", true, "'03'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%H')", true, "'00'"},
		{"date(2024, 7, 4).strftime('%H')", true, "'00'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%I')", true, "'03'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%I')", true, "'03'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%I')", true, "'12'"},
		{"date(2024, 7, 4).strftime('%I')", true, "'12'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%p')", true, "'PM'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%p')", true, "'AM'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%p')", true, "'AM'"},
		{"date(2024, 7, 4).strftime('%p')", true, "'AM'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%M')", true, "'04'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%M')", true, "'04'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%M')", true, "'00'"},
		{"date(2024, 7, 4).strftime('%M')", true, "'00'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%S')", true, "'05'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%S')", true, "'05'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%S')", true, "'00'"},
		{"date(2024, 7, 4).strftime('%S')", true, "'00'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%f')", true, "'000600'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%f')", true, "'600000'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%f')", true, "'000000'"},
		{"date(2024, 7, 4).strftime('%f')", true, "'000000'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%z')", true, "''"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%z')", true, "'+0530'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%z')", true, "'+0000'"},
		{"date(2024, 7, 4).strftime('%z')", true, "''"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%Z')", true, "''"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%Z')", true, "'UTC+05:30'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%Z')", true, "'UTC'"},
		{"date(2024, 7, 4).strftime('%Z')", true, "''"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%j')", true, "'002'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%j')", true, "'002'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%j')", true, "'365'"},
		{"date(2024, 7, 4).strftime('%j')", true, "'186'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%U')", true, "'00'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%U')", true, "'00'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%U')", true, "'52'"},
		{"date(2024, 7, 4).strftime('%U')", true, "'26'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%W')", true, "'01'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%W')", true, "'01'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%W')", true, "'52'"},
		{"date(2024, 7, 4).strftime('%W')", true, "'27'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%c')", true, "'Tue Jan  2 15:04:05 2024'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%c')", true, "'Tue Jan  2 03:04:05 2024'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%c')", true, "'Sat Dec 31 00:00:00 5'"},
		{"date(2024, 7, 4).strftime('%c')", true, "'Thu Jul  4 00:00:00 2024'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%x')", true, "'01/02/24'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%x')", true, "'01/02/24'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%x')", true, "'12/31/05'"},
		{"date(2024, 7, 4).strftime('%x')", true, "'07/04/24'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%X')", true, "'15:04:05'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%X')", true, "'03:04:05'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%X')", true, "'00:00:00'"},
		{"date(2024, 7, 4).strftime('%X')", true, "'00:00:00'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%%')", true, "'%'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%%')", true, "'%'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%%')", true, "'%'"},
		{"date(2024, 7, 4).strftime('%%')", true, "'%'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%G')", true, "'2024'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%G')", true, "'2024'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%G')", true, "'5'"},
		{"date(2024, 7, 4).strftime('%G')", true, "'2024'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%u')", true, "'2'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%u')", true, "'2'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%u')", true, "'6'"},
		{"date(2024, 7, 4).strftime('%u')", true, "'4'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%V')", true, "'01'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%V')", true, "'01'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%V')", true, "'52'"},
		{"date(2024, 7, 4).strftime('%V')", true, "'27'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%e')", true, "' 2'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%e')", true, "' 2'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%e')", true, "'31'"},
		{"date(2024, 7, 4).strftime('%e')", true, "' 4'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%s')", true, "'1704207845'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%s')", true, "'1704164645'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%s')", true, "'-61977916800'"},
		{"date(2024, 7, 4).strftime('%s')", true, "'1720051200'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-d')", true, "'2'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-d')", true, "'2'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-d')", true, "'31'"},
		{"date(2024, 7, 4).strftime('%-d')", true, "'4'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-m')", true, "'1'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-m')", true, "'1'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-m')", true, "'12'"},
		{"date(2024, 7, 4).strftime('%-m')", true, "'7'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-H')", true, "'15'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-H')", true, "'3'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-H')", true, "'0'"},
		{"date(2024, 7, 4).strftime('%-H')", true, "'0'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-I')", true, "'3'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-I')", true, "'3'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-I')", true, "'12'"},
		{"date(2024, 7, 4).strftime('%-I')", true, "'12'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-M')", true, "'4'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-M')", true, "'4'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-M')", true, "'0'"},
		{"date(2024, 7, 4).strftime('%-M')", true, "'0'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-S')", true, "'5'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-S')", true, "'5'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-S')", true, "'0'"},
		{"date(2024, 7, 4).strftime('%-S')", true, "'0'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-j')", true, "'2'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-j')", true, "'2'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-j')", true, "'365'"},
		{"date(2024, 7, 4).strftime('%-j')", true, "'186'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%C')", true, "'20'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%C')", true, "'20'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%C')", true, "'0'"},
		{"date(2024, 7, 4).strftime('%C')", true, "'20'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%D')", true, "'01/02/24'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%D')", true, "'01/02/24'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%D')", true, "'12/31/05'"},
		{"date(2024, 7, 4).strftime('%D')", true, "'07/04/24'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%F')", true, "'2024-01-02'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%F')", true, "'2024-01-02'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%F')", true, "'5-12-31'"},
		{"date(2024, 7, 4).strftime('%F')", true, "'2024-07-04'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%g')", true, "'24'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%g')", true, "'24'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%g')", true, "'05'"},
		{"date(2024, 7, 4).strftime('%g')", true, "'24'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%h')", true, "'Jan'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%h')", true, "'Jan'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%h')", true, "'Dec'"},
		{"date(2024, 7, 4).strftime('%h')", true, "'Jul'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%k')", true, "'15'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%k')", true, "' 3'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%k')", true, "' 0'"},
		{"date(2024, 7, 4).strftime('%k')", true, "' 0'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%l')", true, "' 3'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%l')", true, "' 3'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%l')", true, "'12'"},
		{"date(2024, 7, 4).strftime('%l')", true, "'12'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%n')", true, "'\\n'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%n')", true, "'\\n'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%n')", true, "'\\n'"},
		{"date(2024, 7, 4).strftime('%n')", true, "'\\n'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%t')", true, "'\\t'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%t')", true, "'\\t'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%t')", true, "'\\t'"},
		{"date(2024, 7, 4).strftime('%t')", true, "'\\t'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%P')", true, "'pm'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%P')", true, "'am'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%P')", true, "'am'"},
		{"date(2024, 7, 4).strftime('%P')", true, "'am'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%r')", true, "'03:04:05 PM'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%r')", true, "'03:04:05 AM'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%r')", true, "'12:00:00 AM'"},
		{"date(2024, 7, 4).strftime('%r')", true, "'12:00:00 AM'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%R')", true, "'15:04'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%R')", true, "'03:04'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%R')", true, "'00:00'"},
		{"date(2024, 7, 4).strftime('%R')", true, "'00:00'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%T')", true, "'15:04:05'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%T')", true, "'03:04:05'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%T')", true, "'00:00:00'"},
		{"date(2024, 7, 4).strftime('%T')", true, "'00:00:00'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%^a')", true, "'TUE'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%^a')", true, "'TUE'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%^a')", true, "'SAT'"},
		{"date(2024, 7, 4).strftime('%^a')", true, "'THU'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%#p')", true, "'pm'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%#p')", true, "'am'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%#p')", true, "'am'"},
		{"date(2024, 7, 4).strftime('%#p')", true, "'am'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%10Y')", true, "'0000002024'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%10Y')", true, "'0000002024'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%10Y')", true, "'0000000005'"},
		{"date(2024, 7, 4).strftime('%10Y')", true, "'0000002024'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%_d')", true, "' 2'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%_d')", true, "' 2'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%_d')", true, "'31'"},
		{"date(2024, 7, 4).strftime('%_d')", true, "' 4'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%5%')", true, "'    %'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%5%')", true, "'    %'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%5%')", true, "'    %'"},
		{"date(2024, 7, 4).strftime('%5%')", true, "'    %'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%Q')", true, "'%Q'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%Q')", true, "'%Q'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%Q')", true, "'%Q'"},
		{"date(2024, 7, 4).strftime('%Q')", true, "'%Q'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%Ey')", true, "'24'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%Ey')", true, "'24'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%Ey')", true, "'05'"},
		{"date(2024, 7, 4).strftime('%Ey')", true, "'24'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%Od')", true, "'02'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%Od')", true, "'02'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%Od')", true, "'31'"},
		{"date(2024, 7, 4).strftime('%Od')", true, "'04'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%Ed')", true, "'%Ed'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%Ed')", true, "'%Ed'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%Ed')", true, "'%Ed'"},
		{"date(2024, 7, 4).strftime('%Ed')", true, "'%Ed'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%-z')", true, "''"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%-z')", true, "''"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%-z')", true, "''"},
		{"date(2024, 7, 4).strftime('%-z')", true, "''"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%8f')", true, "'     %8f'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%8f')", true, "'     %8f'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%8f')", true, "'     %8f'"},
		{"date(2024, 7, 4).strftime('%8f')", true, "'     %8f'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('abc%')", true, "'abc%'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('abc%')", true, "'abc%'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('abc%')", true, "'abc%'"},
		{"date(2024, 7, 4).strftime('abc%')", true, "'abc%'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%Y-%m-%d')", true, "'2024-01-02'"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%Y-%m-%d')", true, "'2024-01-02'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%Y-%m-%d')", true, "'5-12-31'"},
		{"date(2024, 7, 4).strftime('%Y-%m-%d')", true, "'2024-07-04'"},
		{"datetime(2024, 1, 2, 15, 4, 5, 600).strftime('%H:%M:%S.%f %z %Z')", true, "'15:04:05.000600  '"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=timezone(timedelta(hours=5, minutes=30))).strftime('%H:%M:%S.%f %z %Z')", true, "'03:04:05.600000 +0530 UTC+05:30'"},
		{"datetime(5, 12, 31, 0, 0, tzinfo=UTC).strftime('%H:%M:%S.%f %z %Z')", true, "'00:00:00.000000 +0000 UTC'"},
		{"date(2024, 7, 4).strftime('%H:%M:%S.%f %z %Z')", true, "'00:00:00.000000  '"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			v, err := starlark.Eval(&starlark.Thread{}, "t.star", tc.expr, env)
			if err != nil {
				t.Fatalf("%s: %v", tc.expr, err)
			}
			got := Str(v)
			if tc.repr {
				got = Repr(v)
			}
			if got != tc.want {
				t.Errorf("%s\n got %s\nwant %s", tc.expr, got, tc.want)
			}
		})
	}
}

func TestDatetimeErrors(t *testing.T) {
	withUTCLocal(t)
	env := datetimeEnv()
	for _, tc := range []struct{ expr, want string }{
		{"datetime(2024, 1, 1) < datetime(2024, 1, 1, tzinfo=UTC)", "can't compare offset-naive and offset-aware datetimes"},
		{"datetime(2024, 1, 1, tzinfo=UTC) >= datetime(2024, 1, 1)", "can't compare offset-naive and offset-aware datetimes"},
		{"datetime(2024, 1, 1) - datetime(2024, 1, 1, tzinfo=UTC)", "can't subtract offset-naive and offset-aware datetimes"},
		{"datetime(2023, 2, 29)", "day is out of range for month"},
		{"datetime(0, 1, 1)", "year 0 is out of range"},
		{"datetime(2023, 13, 1)", "month must be in 1..12"},
		{"datetime(2023, 1, 1, 24)", "hour must be in 0..23"},
		{"datetime(2023, 1, 1, 1, 60)", "minute must be in 0..59"},
		{"datetime(2023, 1, 1, 1, 1, 60)", "second must be in 0..59"},
		{"datetime(2023, 1, 1, microsecond=1000000)", "microsecond must be in 0..999999"},
		{"datetime(2023, 1, 1, tzinfo=1)", "tzinfo argument must be None or of a tzinfo subclass, not type 'int'"},
		{"date(2023, 2, 30)", "day is out of range for month"},
		{"datetime.fromtimestamp(1e12)", "year 33658 is out of range"},
		{"datetime.utcfromtimestamp(-1e12)", "year -29719 is out of range"},
		{"datetime.fromtimestamp(253402300800, tz=timezone.utc)", "year 10000 is out of range"},
		{"datetime(9999, 12, 31) + timedelta(days=1)", "date value out of range"},
		{"datetime(1, 1, 1) - timedelta(microseconds=1)", "date value out of range"},
		{"date(1, 1, 1) - timedelta(days=1)", "date value out of range"},
		{"timezone(timedelta(hours=24))", "offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not datetime.timedelta(days=1)"},
		{"timezone(timedelta(hours=-24))", "offset must be a timedelta strictly between"},
		{"datetime.fromisoformat('2023-01-0')", "isoformat string: '2023-01-0'"},
		{"datetime.fromisoformat('2023-01-01T')", "isoformat string: '2023-01-01T'"},
		{"datetime.fromisoformat('2023-01-01T12:30:45Zx')", "isoformat string"},
		{"datetime.fromisoformat('2023-01-01T12:30:45.')", "isoformat string"},
		{"datetime.fromisoformat('2023-01-01T12:30:')", "isoformat string"},
		{"datetime.fromisoformat('2023-01-01T12:30:45.123abc+01:00')", "isoformat string"},
		{"datetime.fromisoformat('2023-01-01T25:00')", "hour must be in 0..23"},
		{"datetime.fromisoformat('2023-01-01T12:30+24:00')", "offset must be a timedelta strictly between"},
		{"date.fromisoformat('2023-01-1')", "isoformat string: '2023-01-1'"},
		{"date.fromisoformat('2023-13-01')", "month must be in 1..12"},
		{"datetime.strptime('2023', '%Y %m')", "time data '2023' does not match format '%Y %m'"},
		{"datetime.strptime('100%', '%d%%')", "time data '100%' does not match format '%d%%'"},
		{"datetime.strptime('2023 1', '%Y')", "unconverted data remains:  1"},
		{"datetime.strptime('2023', '%Q')", "'Q' is a bad directive in format '%Q'"},
		{"datetime.strptime('x', '%.')", "'%' is a bad directive in format '%.'"},
		{"datetime.strptime('2023', '%Y%')", "stray % in format '%Y%'"},
		{"datetime.strptime('+01:3000', '%z')", "nconsistent use of : in +01:3000"},
		{"datetime.strptime('Feb 29', '%b %d')", "day is out of range for month"},
		{"datetime.strptime('1 1', '%H %H')", "redefinition of group name 'H'"},
		{"datetime.strptime('2024 1', '%Y %V')", "ISO week directive '%V' must be used with the ISO year directive '%G'"},
		{"datetime(2024, 1, 1).isoformat(timespec='x')", "timespec value"},
		{"datetime(2024, 1, 1).astimezone(1)", "tzinfo argument must be None or of a tzinfo subclass"},
		{"datetime(2024, 1, 1).replace(month=13)", "month must be in 1..12"},
		{"datetime.max.astimezone(timezone(timedelta(hours=1)))", "date value out of range"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			v, err := starlark.Eval(&starlark.Thread{}, "t.star", tc.expr, env)
			if err == nil {
				t.Fatalf("%s = %s, want an error containing %q", tc.expr, Repr(v), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %q, want it to contain %q", tc.expr, err, tc.want)
			}
		})
	}
}

func TestDatetimeFormat(t *testing.T) {
	env := datetimeEnv()
	for _, tc := range []struct{ expr, spec, want string }{
		// f'{x:%Y-%m-%d}' and f'{x}' in CPython 3.11.
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)", "%Y-%m-%d", "2024-01-02"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)", "%H:%M:%S.%f%z", "03:04:05.600000+0000"},
		{"datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)", "", "2024-01-02 03:04:05.600000+00:00"},
		{"datetime(2024, 1, 2, 3, 4, 5)", "%d %b %Y", "02 Jan 2024"},
		{"date(2024, 1, 2)", "%Y-%m-%d", "2024-01-02"},
		{"date(2024, 1, 2)", "%A %-d %B", "Tuesday 2 January"},
		{"date(2024, 1, 2)", "", "2024-01-02"},
	} {
		t.Run(tc.expr+" "+tc.spec, func(t *testing.T) {
			v, err := starlark.Eval(&starlark.Thread{}, "t.star", tc.expr, env)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := v.(Formatter)
			if !ok {
				t.Fatalf("%s is not a Formatter", v.Type())
			}
			got, err := f.PyFormat(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("format(%s, %q) = %q, want %q", tc.expr, tc.spec, got, tc.want)
			}
		})
	}
}

func TestDatetimeIsInstance(t *testing.T) {
	env := datetimeEnv()
	eval := func(expr string) starlark.Value {
		v, err := starlark.Eval(&starlark.Thread{}, "t.star", expr, env)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	dtClass := env["datetime"].(*DatetimeClass)
	dateClass := env["date"].(*DateClass)
	tzClass := env["timezone"].(*TimezoneClass)
	dt, d, tz := eval("datetime(2024, 1, 2)"), eval("date(2024, 1, 2)"), eval("UTC")
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"isinstance(datetime(...), datetime)", dtClass.IsInstance(dt), true},
		{"isinstance(date(...), datetime)", dtClass.IsInstance(d), false},
		{"isinstance(date(...), date)", dateClass.IsInstance(d), true},
		{"isinstance(datetime(...), date)", dateClass.IsInstance(dt), true},
		{"isinstance(UTC, timezone)", tzClass.IsInstance(tz), true},
		{"isinstance(UTC, date)", dateClass.IsInstance(tz), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if got := env["datetime"].String(); got != "<class 'datetime.datetime'>" {
		t.Errorf("str(datetime) = %s", got)
	}
	if got := env["datetime"].Type(); got != "type" {
		t.Errorf("type(datetime) = %s", got)
	}
}

func TestDatetimeNow(t *testing.T) {
	env := datetimeEnv()
	before := time.Now().UnixMicro()
	v, err := starlark.Eval(&starlark.Thread{}, "t.star", "datetime.now(UTC).timestamp()", env)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixMicro()
	got := int64(float64(v.(starlark.Float)) * 1e6)
	if got < before-1 || got > after+1 {
		t.Errorf("now(UTC).timestamp() = %v, not between %d and %d us", v, before, after)
	}
	withUTCLocal(t)
	v, err = starlark.Eval(&starlark.Thread{}, "t.star", "(datetime.now() - datetime.utcnow()).total_seconds() < 1", env)
	if err != nil {
		t.Fatal(err)
	}
	if v != starlark.True {
		t.Errorf("now() and utcnow() differ in UTC: %v", v)
	}
}
