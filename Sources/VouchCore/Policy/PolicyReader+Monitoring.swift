import VouchKit

/// Reading the `monitoring` section of a policy document.
extension PolicyReader {
    mutating func monitoringRules(_ node: PolicyNode, zones: Set<String>) -> MonitoringRules {
        var rules = MonitoringRules.standard
        if case .null = node { return rules }
        guard let fields = map(node, "monitoring", known: ["halfLife", "sensitivity", "weights", "thresholds", "responses"]) else { return rules }
        if let node = fields["halfLife"], let seconds = duration(node, "monitoring.halfLife") { rules.halfLife = seconds }
        if let node = fields["sensitivity"], let members = map(node, "monitoring.sensitivity", known: ["device", "cohort"]) {
            if let value = members["device"], let number = number(value, "monitoring.sensitivity.device", range: 1...100) {
                rules.deviceSensitivity = number
            }
            if let value = members["cohort"], let number = number(value, "monitoring.sensitivity.cohort", range: 1...100) {
                rules.cohortSensitivity = number
            }
        }
        if let node = fields["thresholds"], let items = list(node, "monitoring.thresholds") {
            var names = Set<String>()
            for (index, item) in items.enumerated() {
                let path = "monitoring.thresholds[\(index)]"
                guard let threshold = threshold(item, path, zones: zones) else { continue }
                guard names.insert(threshold.name).inserted else {
                    problem(path + ".name", item, "the threshold name \(threshold.name) is used twice")
                    continue
                }
                rules.thresholds.append(threshold)
            }
        }
        if let node = fields["weights"], let pairs = entries(node, "monitoring.weights") {
            for (key, value) in pairs {
                let path = "monitoring.weights.\(key)"
                guard !key.hasSuffix("*"), rules.knows(signalPattern: key) else {
                    problem(path, value, "unknown signal \"\(key.prefix(64))\"; expected one of \(SignalKind.known.map(\.rawValue).joined(separator: ", ")) or rule.NAME of a threshold")
                    continue
                }
                if let weight = number(value, path, range: 0...100) { rules.weights[SignalKind(rawValue: key)] = weight }
            }
        }
        if let node = fields["responses"], let items = list(node, "monitoring.responses") {
            rules.responses = []
            for (index, item) in items.enumerated() {
                if let response = response(item, "monitoring.responses[\(index)]", rules: rules, zones: zones) {
                    guard !rules.responses.contains(where: { $0.name == response.name }) else {
                        problem("monitoring.responses[\(index)].name", item, "the response name \(response.name) is used twice")
                        continue
                    }
                    rules.responses.append(response)
                }
            }
        }
        return rules
    }

    private mutating func threshold(_ node: PolicyNode, _ path: String, zones: Set<String>) -> MonitoringRules.Threshold? {
        guard let fields = map(node, path, known: ["name", "metric", "window", "above", "groups", "zones", "weight"]) else { return nil }
        var valid = true
        let name = fields["name"].flatMap { string($0, path + ".name") }
        if let name, !Self.isName(name) {
            problem(path + ".name", fields["name"], "a threshold name is letters, digits, - and _ (it becomes the signal rule.NAME)")
            valid = false
        }
        if fields["name"] == nil { problem(path, node, "a threshold needs a name") }
        var metric: DeviceMetric?
        if let node = fields["metric"], let text = string(node, path + ".metric") {
            let usable = DeviceMetric.allCases.filter { !SignalKind.unprovenMetrics.contains($0) }
            metric = usable.first { $0.description == text }
            if metric == nil {
                if SignalKind.unprovenMetrics.contains(where: { $0.description == text }) {
                    problem(path + ".metric", node, "\(text) cannot raise a signal: a refused authentication names a device without proving it, so anyone could run it up")
                } else {
                    problem(path + ".metric", node, "unknown metric \"\(text.prefix(64))\"; expected \(usable.map(\.description).joined(separator: ", "))")
                }
            }
        } else if fields["metric"] == nil {
            problem(path, node, "a threshold needs a metric")
        }
        var window = MonitoringRules.Window.minute
        if let node = fields["window"], let text = string(node, path + ".window") {
            if let parsed = MonitoringRules.Window(rawValue: text) {
                window = parsed
            } else {
                problem(path + ".window", node, "unknown window \"\(text.prefix(16))\"; expected 1m, 5m or 1h")
                valid = false
            }
        }
        var above: Double?
        if let node = fields["above"] {
            above = number(node, path + ".above", range: 0...Double(UInt32.max))
        } else {
            problem(path, node, "a threshold needs above: the count it must exceed")
        }
        let groups = fields["groups"].map { stringsOrOne($0, path + ".groups", what: "groups") } ?? []
        let zoneList = fields["zones"].map { stringsOrOne($0, path + ".zones", what: "zones") } ?? []
        for zone in zoneList where !zones.contains(zone) {
            problem(path + ".zones", fields["zones"], "zone \(zone.prefix(64)) is not defined")
            valid = false
        }
        var weight = 30.0
        if let node = fields["weight"] {
            guard let number = number(node, path + ".weight", range: 0...100) else { return nil }
            weight = number
        }
        guard valid, let name, let metric, let above else { return nil }
        return MonitoringRules.Threshold(name: name, metric: metric, window: window, above: Int(above), groups: groups, zones: zoneList, weight: weight)
    }

    private mutating func response(_ node: PolicyNode, _ path: String, rules: MonitoringRules, zones: Set<String>) -> MonitoringRules.Response? {
        let defaultName = String(path.dropFirst("monitoring.".count))
        let parsed: MonitoringRules.Response
        if case .scalar(let text, _) = node {
            do {
                parsed = try MonitoringRules.Response(name: defaultName, parsing: text)
            } catch {
                problem(path, node, "\(error)")
                return nil
            }
        } else {
            guard let fields = map(node, path, known: ["name", "when", "then", "dryRun"]) else { return nil }
            var name = defaultName
            if let node = fields["name"], let text = string(node, path + ".name") {
                guard Self.isName(text) else {
                    problem(path + ".name", node, "a response name is letters, digits, - and _")
                    return nil
                }
                name = text
            }
            guard let whenNode = fields["when"], let when = string(whenNode, path + ".when") else {
                if fields["when"] == nil { problem(path, node, "a response needs when: a condition") }
                return nil
            }
            guard let thenNode = fields["then"], let then = string(thenNode, path + ".then") else {
                if fields["then"] == nil { problem(path, node, "a response needs then: an action") }
                return nil
            }
            var dryRun = false
            if let node = fields["dryRun"], let text = string(node, path + ".dryRun") {
                guard text == "true" || text == "false" else {
                    problem(path + ".dryRun", node, "dryRun is true or false")
                    return nil
                }
                dryRun = text == "true"
            }
            guard let action = MonitoringRules.Action(rawValue: then) else {
                problem(path + ".then", thenNode, "unknown action \"\(then.prefix(40))\"; expected \(MonitoringRules.Action.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            do {
                parsed = MonitoringRules.Response(name: name, condition: try ResponseCondition(parsing: when), action: action, dryRun: dryRun)
            } catch {
                problem(path + ".when", whenNode, "\(error)")
                return nil
            }
        }
        var valid = true
        for pattern in parsed.condition.signalPatterns where !rules.knows(signalPattern: pattern) {
            problem(path, node, "no detector raises the signal \"\(pattern.prefix(64))\"; expected one of \(SignalKind.known.map(\.rawValue).joined(separator: ", ")), rule.NAME of a threshold, or a prefix ending in *")
            valid = false
        }
        for zone in parsed.condition.zoneNames where !zones.contains(zone) {
            problem(path, node, "zone \(zone.prefix(64)) is not defined")
            valid = false
        }
        return valid ? parsed : nil
    }

    private mutating func number(_ node: PolicyNode, _ path: String, range: ClosedRange<Double>) -> Double? {
        guard let text = string(node, path) else { return nil }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            problem(path, node, "must be a number from \(Int(range.lowerBound)) to \(Int(range.upperBound)), not \"\(text.prefix(32))\"")
            return nil
        }
        return value
    }

    /// `90s`, `30m`, `2h`, or a number of seconds; from 1 minute to 30 days.
    private mutating func duration(_ node: PolicyNode, _ path: String) -> Double? {
        guard let text = string(node, path) else { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var seconds: Double?
        if let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()) {
            seconds = value * scale
        } else {
            seconds = Double(text)
        }
        guard let seconds, seconds.isFinite, (60...30 * 86400).contains(seconds) else {
            problem(path, node, "must be a duration from 1m to 30d (like 90s, 30m, 2h), not \"\(text.prefix(32))\"")
            return nil
        }
        return seconds
    }

    private static func isName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 64 else { return false }
        return text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}
