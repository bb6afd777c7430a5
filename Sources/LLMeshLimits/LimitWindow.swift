import LLMeshModel

/// Calendar arithmetic for limit and budget windows, in UTC.
public enum LimitWindow {
    /// The fixed window of `length` seconds holding `time` (Unix seconds): its index and the seconds until it ends.
    public static func fixed(length: Int64, at time: Int64) -> (index: Int64, secondsLeft: Int64) {
        let index = time / length
        return (index, (index + 1) * length - time)
    }

    /// The budget window holding `time`: a label for keys (`2026-11-22`, `2026-W47` as its Monday, `2026-11`),
    /// and its end in Unix seconds. Days start at 00:00 UTC, weeks on Monday, months on the 1st.
    public static func budget(_ period: BudgetPeriod, at time: Int64) -> (label: String, end: Int64) {
        let day = floorDiv(time, 86_400)
        let (year, month, dayOfMonth) = civil(fromDays: day)
        switch period {
        case .daily:
            return (String(format4: year) + "-" + two(month) + "-" + two(dayOfMonth), (day + 1) * 86_400)
        case .weekly:
            // 1970-01-01 was a Thursday: days since the Monday before it.
            let weekday = floorMod(day + 3, 7)
            let monday = day - weekday
            let (y, m, d) = civil(fromDays: monday)
            return ("week-" + String(format4: y) + "-" + two(m) + "-" + two(d), (monday + 7) * 86_400)
        case .monthly:
            let nextMonth = month == 12 ? (year + 1, 1) : (year, month + 1)
            return (String(format4: year) + "-" + two(month), days(fromCivil: nextMonth.0, nextMonth.1, 1) * 86_400)
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
    static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension String {
    init(format4 value: Int64) {
        let text = String(value)
        self = text.count >= 4 ? text : String(repeating: "0", count: 4 - text.count) + text
    }
}
