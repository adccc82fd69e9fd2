import Foundation
import Testing
import VouchCore
import VouchKit

@Suite struct ResponseConditionTests {
    let sensor = DeviceProfile(group: "sensors", zone: "line-3", model: "t1000")

    @Test func conditionsReadAndHold() throws {
        let condition = try ResponseCondition(parsing: "score < 40 or signal == firmware.unknown")
        #expect(condition.holds(score: 30, signals: [], profile: sensor))
        #expect(condition.holds(score: 90, signals: [.firmwareUnknown], profile: sensor))
        #expect(!condition.holds(score: 90, signals: [.replay], profile: sensor))

        let nested = try ResponseCondition(parsing: "signal == rule.* and not (zone == lab or group != sensors)")
        #expect(nested.holds(score: 100, signals: [.rule("chatty")], profile: sensor))
        #expect(!nested.holds(score: 100, signals: [.rule("chatty")], profile: DeviceProfile(group: "sensors", zone: "lab", model: "")))
        #expect(!nested.holds(score: 100, signals: [.replay], profile: sensor))
        #expect(nested.signalPatterns == ["rule.*"])
        #expect(nested.zoneNames == ["lab"])
    }

    @Test(arguments: [
        ("score <", 8, "the condition ends where a value was expected"),
        ("score < high", 9, "a score is compared with a number"),
        ("signal < replay", 8, "signal is compared with == or !="),
        ("temperature > 3", 1, "unknown subject \"temperature\""),
        ("score < 3 score > 1", 11, "unexpected \"score\""),
        ("(score < 3", 11, "the condition ends where \")\" was expected"),
        ("signal == a*b", 11, "a signal pattern may only end in *"),
        ("score < 1e19", 9, "a number from 0 to 100"),
        (String(repeating: "not ", count: 33) + "score < 3", 129, "nests at most 32 deep"),
        (String(repeating: "(", count: 40) + "score < 3" + String(repeating: ")", count: 40), 33, "nests at most 32 deep"),
    ])
    func badConditionsNameTheirColumn(text: String, column: Int, message: String) {
        #expect {
            try ResponseCondition(parsing: text)
        } throws: { error in
            guard let error = error as? ResponseConditionError else { return false }
            return error.column == column && error.message.contains(message)
        }
    }

    @Test func responsesReadWhenThen() throws {
        let response = try MonitoringRules.Response(name: "r", parsing: "when score < 40 or signal == firmware.unknown then quarantine")
        #expect(response.action == .quarantine)
        #expect(response.condition.description == "(score < 40 or signal == firmware.unknown)")
        #expect(throws: ResponseConditionError.self) { try MonitoringRules.Response(name: "r", parsing: "when score < 40 then explode") }
        #expect(throws: ResponseConditionError.self) { try MonitoringRules.Response(name: "r", parsing: "score < 40 then alert") }
        #expect(throws: ResponseConditionError.self) { try MonitoringRules.Response(name: "r", parsing: "when then quarantine") }
        #expect(throws: ResponseConditionError.self) { try MonitoringRules.Response(name: "r", parsing: "when  then  quarantine") }
    }
}

@Suite struct MonitoringPolicyTests {
    @Test func theMonitoringSectionIsReadAndValidated() throws {
        let document = try PolicyDocument(parsing: """
            zones:
              line-3: {}
            monitoring:
              halfLife: 10m
              sensitivity: {device: 5, cohort: 8}
              weights: {address.new: 10}
              thresholds:
                - {name: chatty, metric: messages, window: 5m, above: 600, groups: [sensors], zones: [line-3], weight: 35}
              responses:
                - when score < 40 or signal == firmware.unknown then quarantine
                - {name: new-address, when: signal == address.new, then: step-up, dryRun: true}
                - {when: signal == rule.chatty and zone == line-3, then: alert}
            """)
        let rules = document.monitoring
        #expect(rules.halfLife == 600)
        #expect(rules.deviceSensitivity == 5 && rules.cohortSensitivity == 8)
        #expect(rules.weight(of: .newAddress) == 10)
        #expect(rules.weight(of: .rule("chatty")) == 35)
        #expect(rules.weight(of: .signatureForged) == 60)
        #expect(rules.thresholds == [MonitoringRules.Threshold(name: "chatty", metric: .messages, window: .fiveMinutes, above: 600, groups: ["sensors"], zones: ["line-3"], weight: 35)])
        #expect(rules.responses.map(\.name) == ["responses[0]", "new-address", "responses[2]"])
        #expect(rules.responses.map(\.action) == [.quarantine, .stepUp, .alert])
        #expect(rules.responses.map(\.dryRun) == [false, true, false])

        #expect(try PolicyDocument(parsing: "roles: {}").monitoring == .standard)
    }

    @Test func mistakesAreRefusedWithTheirPlace() {
        #expect {
            try PolicyDocument(parsing: """
                monitoring:
                  halfLife: forever
                  weights: {signal.unknown: 10}
                  thresholds:
                    - {name: chatty, metric: messagez, above: 10}
                    - {name: guessers, metric: auth_failures, above: 1}
                  responses:
                    - when score < 40 then explode
                    - {when: signal == rule.quiet, then: alert}
                    - {when: zone == mars, then: alert}
                """)
        } throws: { error in
            guard let error = error as? PolicyDocumentError else { return false }
            let paths = error.problems.map(\.path)
            return paths == [
                "monitoring.halfLife", "monitoring.weights.signal.unknown", "monitoring.thresholds[0].metric", "monitoring.thresholds[1].metric",
                "monitoring.responses[0]", "monitoring.responses[1]", "monitoring.responses[2]",
            ] && error.problems[2].message.contains("unknown metric \"messagez\"") && error.problems[5].message.contains("rule.quiet")
                && error.problems[3].message.contains("anyone could run it up")
                && error.problems[0].location.line == 2
        }
    }
}

@Suite struct FleetMonitorTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let sensor = DeviceProfile(group: "sensors", zone: "line-3", model: "t1000")

    func messages(_ count: UInt32, bytes: UInt32 = 0, from address: String? = nil) -> Observation {
        var observation = Observation(source: address.flatMap { try? IPAddress($0) }, connection: true)
        observation.count(.messages, count)
        observation.count(.bytes, bytes == 0 ? count * 100 : bytes)
        return observation
    }

    @Test func theMonitorHoldsAtMostItsLimitDroppingTheDevicesSeenLongestAgo() {
        let monitor = FleetMonitor(rules: MonitoringRules(responses: []), deviceLimit: 160)
        #expect(monitor.deviceLimit == 160)
        // A device with a signal against it, seen first: kept over quiet devices seen later.
        _ = monitor.raise(.signatureForged, detail: "forged", device: "dev_held", profile: sensor, at: start)
        // A thousand devices, each seen in a minute of its own.
        for index in 0..<1_000 {
            _ = monitor.record(messages(1), device: "dev_\(index)", profile: sensor, at: start.addingTimeInterval(Double(index + 1) * 60))
            #expect(monitor.deviceCount <= 160)
        }
        let now = start.addingTimeInterval(1_001 * 60)
        #expect(monitor.evictedDevices >= 1_001 - 160)
        #expect(monitor.deviceCount + monitor.evictedDevices == 1_001)
        #expect(monitor.activity(of: "dev_999", at: now) != nil)
        #expect(monitor.activity(of: "dev_0", at: now) == nil)
        #expect(monitor.activity(of: "dev_held", at: now) != nil)
        // What is held is what was seen last: each shard of 16 keeps its 10 most recent of about 62,
        // so nothing from the first half is left.
        let kept = (0..<1_000).filter { monitor.activity(of: "dev_\($0)", at: now) != nil }
        #expect(kept.count == monitor.deviceCount - 1 && (kept.min() ?? 0) >= 500, "\(kept)")
        // Retired devices go first, however recently they were seen; nothing more is recorded for them.
        for index in kept { monitor.retire("dev_\(index)") }
        let retired = kept[0]
        _ = monitor.record(messages(5), device: "dev_\(retired)", profile: sensor, at: now)
        #expect(monitor.activity(of: "dev_\(retired)", at: now)?.windows.lastMinute(.messages) == 0)
        for index in 0..<40 {
            _ = monitor.record(messages(1), device: "new_\(index)", profile: sensor, at: now.addingTimeInterval(Double(index + 1) * 60))
        }
        let later = now.addingTimeInterval(41 * 60)
        #expect((0..<40).allSatisfy { monitor.activity(of: "new_\($0)", at: later) != nil })
        #expect(monitor.activity(of: "dev_held", at: later) != nil)
        #expect(monitor.deviceCount <= 160)
        // Forgetting frees the room at once.
        for index in 0..<1_000 { monitor.forget("dev_\(index)") }
        for index in 0..<40 { monitor.forget("new_\(index)") }
        monitor.forget("dev_held")
        #expect(monitor.deviceCount == 0)
    }

    @Test func aBurstIsFoundAgainstTheDevicesOwnBaselineAndItsCohorts() {
        let monitor = FleetMonitor(rules: MonitoringRules(responses: []))
        // Ten quiet minutes for the device and nine others of its cohort.
        for minute in 0..<10 {
            for device in 0..<10 {
                let at = start.addingTimeInterval(Double(minute * 60 + device))
                #expect(monitor.record(messages(4 + UInt32(device % 3)), device: "dev_\(device)", profile: sensor, at: at).isEmpty)
            }
        }
        #expect(monitor.trust(of: "dev_0", at: start.addingTimeInterval(600)).score == 100)
        let baseline = monitor.baselines(of: "dev_0")![0]
        #expect(baseline.isWarm && abs(baseline.mean - 4) < 0.5)
        // Forty messages in one minute: far above its own limit and its cohort's.
        let burstAt = start.addingTimeInterval(600 + 20)
        _ = monitor.record(messages(40), device: "dev_0", profile: sensor, at: burstAt)
        let report = monitor.trust(of: "dev_0", at: burstAt)
        #expect(Set(report.signals.map(\.kind)).isSuperset(of: ["baseline.messages", "cohort.messages"]))
        #expect(report.score < 60)
        #expect(report.signals.first { $0.kind == "baseline.messages" }?.detail.contains("40 messages this minute") == true)
        #expect(report.explanation.hasPrefix("100 − "))

        // A device new to the cohort is judged by the cohort from its first minute.
        _ = monitor.record(messages(60), device: "dev_new", profile: sensor, at: burstAt.addingTimeInterval(1))
        #expect(monitor.trust(of: "dev_new", at: burstAt.addingTimeInterval(1)).signals.map(\.kind).contains("cohort.messages"))
        // The others were not disturbed.
        for device in 1..<10 { #expect(monitor.trust(of: "dev_\(device)", at: burstAt).score == 100) }
    }

    @Test func signalsWrongOnSightFadeAndExplainTheScore() {
        let monitor = FleetMonitor(rules: MonitoringRules(halfLife: 600, responses: []))
        var forged = Observation(source: try? IPAddress("10.0.0.1"), connection: true)
        forged.count(.signatureFailures)
        _ = monitor.record(forged, device: "d", profile: sensor, at: start)
        _ = monitor.record(Observation(source: try? IPAddress("10.0.0.2"), connection: true), device: "d", profile: sensor, at: start)
        let now = monitor.trust(of: "d", at: start)
        #expect(now.score == 20)
        #expect(now.signals.map(\.kind) == ["signature.forged", "address.new"])
        #expect(now.explanation == "100 − 60.0 signature.forged − 20.0 address.new = 20")
        #expect(now.signals[1].detail.contains("came from 10.0.0.2") && now.signals[1].detail.contains("10.0.0.1"))
        // One half-life later each weighs half.
        let later = monitor.trust(of: "d", at: start.addingTimeInterval(600))
        #expect(later.score == 60)
        #expect(later.signals.map(\.contribution) == [30, 10])
        #expect(later.signals[0].ageSeconds == 600)
        // Raised again in the same minute, a signal does not count twice.
        _ = monitor.record(forged, device: "d", profile: sensor, at: start.addingTimeInterval(5))
        #expect(monitor.trust(of: "d", at: start.addingTimeInterval(5)).signals[0].count == 1)
        #expect(monitor.trust(of: "d", at: start).history.map(\.cause) == ["signature.forged", "address.new"])
    }

    @Test func responsesFireOnceWhileTheyHoldAndReleaseClears() throws {
        let rules = MonitoringRules(responses: [
            try MonitoringRules.Response(name: "quarantine", parsing: "when score < 50 or signal == firmware.unknown then quarantine"),
            try MonitoringRules.Response(name: "watch", parsing: "when signal == address.new then step-up", dryRun: true),
        ])
        let monitor = FleetMonitor(rules: rules)
        let orders = monitor.raise(.firmwareUnknown, detail: "sha256 ab… is not registered for t1000", device: "d", profile: sensor, at: start)
        #expect(orders.map(\.rule) == ["quarantine"])
        #expect(orders.first?.trigger == .firmwareUnknown && orders.first?.score == 50 && orders.first?.signals == [.firmwareUnknown])
        // Still holding: no second order.
        #expect(monitor.raise(.replay, detail: "", device: "d", profile: sensor, at: start.addingTimeInterval(1)).isEmpty)
        _ = monitor.record(Observation(source: try IPAddress("10.0.0.1")), device: "d", profile: sensor, at: start.addingTimeInterval(2))
        let dry = monitor.record(Observation(source: try IPAddress("10.0.0.9")), device: "d", profile: sensor, at: start.addingTimeInterval(3))
        #expect(dry.map(\.rule) == ["watch"] && dry.first?.dryRun == true && dry.first?.action == .stepUp)
        #expect(monitor.trust(of: "d", at: start.addingTimeInterval(3)).responses == ["quarantine", "watch"])

        monitor.release("d", at: start.addingTimeInterval(60), cause: "released by operator")
        let released = monitor.trust(of: "d", at: start.addingTimeInterval(60))
        #expect(released.score == 100 && released.responses.isEmpty && released.history.last?.cause == "released by operator")
        // After release the rule can fire again.
        #expect(monitor.raise(.firmwareUnknown, detail: "", device: "d", profile: sensor, at: start.addingTimeInterval(120)).map(\.rule) == ["quarantine"])
    }

    @Test func repeatedSignalsWeighTwiceTheirWeightAtMostAndFadedResponsesFireAgain() throws {
        let rules = MonitoringRules(halfLife: 600, responses: [try MonitoringRules.Response(name: "watch", parsing: "when score < 85 then alert")])
        let monitor = FleetMonitor(rules: rules)
        var skewed = Observation()
        skewed.count(.clockSkew)
        var orders: [ResponseOrder] = []
        for minute in 0..<10 {
            orders += monitor.record(skewed, device: "d", profile: sensor, at: start.addingTimeInterval(Double(minute * 60)))
        }
        // clock.skew weighs 10: ten minutes of it take 20 at most.
        #expect(monitor.trust(of: "d", at: start.addingTimeInterval(540)).score == 80)
        #expect(orders.map(\.rule) == ["watch"])
        // Hours later the signal has faded: the next minute re-arms the rule, and it fires again.
        _ = monitor.record(Observation(), device: "d", profile: sensor, at: start.addingTimeInterval(6 * 3600))
        #expect(monitor.trust(of: "d", at: start.addingTimeInterval(6 * 3600)).responses.isEmpty)
        var forged = Observation()
        forged.count(.signatureFailures)
        #expect(monitor.record(forged, device: "d", profile: sensor, at: start.addingTimeInterval(6 * 3600 + 60)).map(\.rule) == ["watch"])
        // Authentication failures are counted, never judged: anyone can name a device in a bad proof.
        var failures = Observation()
        failures.count(.authFailures, 10_000)
        _ = monitor.record(failures, device: "victim", profile: sensor, at: start)
        #expect(monitor.trust(of: "victim", at: start).score == 100)
        #expect(monitor.activity(of: "victim", at: start)?.windows.lastMinute(.authFailures) == 10_000)
    }

    @Test func staticThresholdsApplyToTheirGroupsAndZones() {
        let monitor = FleetMonitor(rules: MonitoringRules(
            thresholds: [MonitoringRules.Threshold(name: "chatty", metric: .messages, window: .minute, above: 10, groups: ["sensors"], weight: 35)],
            responses: []))
        _ = monitor.record(messages(11), device: "s", profile: sensor, at: start)
        _ = monitor.record(messages(11), device: "c", profile: DeviceProfile(group: "cameras", zone: "line-3", model: "t1000"), at: start)
        let report = monitor.trust(of: "s", at: start)
        #expect(report.signals.map(\.kind) == ["rule.chatty"] && report.score == 65)
        #expect(report.signals[0].detail == "11 messages over 1m, above 10")
        #expect(monitor.trust(of: "c", at: start).score == 100)
    }

    @Test func idleMinutesLowerTheBaselineAndPartialFirstMinutesAreLeftOut() {
        let monitor = FleetMonitor(rules: MonitoringRules(responses: []))
        _ = monitor.record(messages(1), device: "d", profile: sensor, at: start.addingTimeInterval(59))
        for minute in 1...5 { _ = monitor.record(messages(10), device: "d", profile: sensor, at: start.addingTimeInterval(Double(minute * 60))) }
        let warm = monitor.baselines(of: "d")![0]
        #expect(warm.samples == 4 && warm.mean == 10)
        _ = monitor.record(messages(10), device: "d", profile: sensor, at: start.addingTimeInterval(Double(20 * 60)))
        let idle = monitor.baselines(of: "d")![0]
        #expect(idle.samples == 4 + 1 + 14 && idle.mean < 5)
        let activity = monitor.activity(of: "d", at: start.addingTimeInterval(Double(20 * 60)))
        #expect(activity?.windows.lastMinute(.messages) == 10)
    }
}
