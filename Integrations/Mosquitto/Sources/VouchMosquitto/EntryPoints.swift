import CMosquitto
import Foundation
import VouchGateway

// Mosquitto's plugin interface, version 5 (mosquitto_plugin.h): the three functions the broker
// looks up, and the callbacks it calls on its own thread.

private let success = Int32(MOSQ_ERR_SUCCESS.rawValue)
private let authRefused = Int32(MOSQ_ERR_AUTH.rawValue)
private let aclDenied = Int32(MOSQ_ERR_ACL_DENIED.rawValue)
private let invalid = Int32(MOSQ_ERR_INVAL.rawValue)

@_cdecl("mosquitto_plugin_version")
public func vouchPluginVersion(_ count: Int32, _ versions: UnsafePointer<Int32>?) -> Int32 {
    guard let versions, count > 0 else { return -1 }
    for index in 0..<Int(count) where versions[index] == 5 { return 5 }
    return -1
}

@_cdecl("mosquitto_plugin_init")
public func vouchPluginInit(
    _ identifier: OpaquePointer?, _ userdata: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ options: UnsafeMutablePointer<mosquitto_opt>?,
    _ count: Int32
) -> Int32 {
    guard let identifier, let userdata else { return invalid }
    guard vouch_mosquitto_pin() == 0 else {
        Plugin.log(Int32(MOSQ_LOG_ERR), "cannot keep the plugin loaded (dlopen RTLD_NODELETE failed)")
        return invalid
    }
    var pairs: [(String, String)] = []
    for index in 0..<Int(max(count, 0)) {
        guard let option = options?[index], let key = option.key, let value = option.value else { continue }
        pairs.append((String(cString: key), String(cString: value)))
    }
    let plugin: Plugin
    do {
        plugin = try Plugin(identifier: identifier, options: try PluginOptions(pairs))
    } catch let problem as PluginOptions.Problem {
        Plugin.log(Int32(MOSQ_LOG_ERR), problem.message)
        return invalid
    } catch {
        Plugin.log(Int32(MOSQ_LOG_ERR), "cannot start: \(error)")
        return invalid
    }
    let context = Unmanaged.passRetained(plugin).toOpaque()
    userdata.pointee = context
    for (event, callback) in callbacks {
        let rc = mosquitto_callback_register(identifier, event, callback, nil, context)
        guard rc == success else {
            Plugin.log(Int32(MOSQ_LOG_ERR), "cannot register for event \(event) (error \(rc))")
            return rc
        }
    }
    plugin.sync.start()
    Plugin.log(Int32(MOSQ_LOG_NOTICE), "following Vouch at \(pairs.first { $0.0 == "vouch_url" }?.1 ?? ""); connections are refused until its devices are loaded")
    return success
}

@_cdecl("mosquitto_plugin_cleanup")
public func vouchPluginCleanup(_ userdata: UnsafeMutableRawPointer?, _ options: UnsafeMutablePointer<mosquitto_opt>?, _ count: Int32) -> Int32 {
    guard let userdata else { return success }
    let plugin = Unmanaged<Plugin>.fromOpaque(userdata).takeRetainedValue()
    plugin.sync.stop()
    for (event, callback) in callbacks {
        _ = mosquitto_callback_unregister(plugin.identifier, event, callback, nil)
    }
    return success
}

private typealias Callback = @convention(c) (Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32

private let callbacks: [(Int32, Callback)] = [
    (Int32(MOSQ_EVT_BASIC_AUTH.rawValue), onBasicAuth),
    (Int32(MOSQ_EVT_ACL_CHECK.rawValue), onACLCheck),
    (Int32(MOSQ_EVT_MESSAGE.rawValue), onMessage),
    (Int32(MOSQ_EVT_DISCONNECT.rawValue), onDisconnect),
    (Int32(MOSQ_EVT_TICK.rawValue), onTick),
]

/// The gate's name for a client's connection: the address of the broker's structure for it.
@inline(__always)
private func connection(of client: OpaquePointer) -> UInt {
    UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(client)))
}

@inline(__always)
private func plugin(_ userdata: UnsafeMutableRawPointer?) -> Plugin? {
    userdata.map { Unmanaged<Plugin>.fromOpaque($0).takeUnretainedValue() }
}

/// Admits a client by its certificate, as its device, or refuses it with CONNACK "not authorised".
/// The connection is named after the device (its username), whatever the client sent.
private func admit(_ plugin: Plugin, _ client: OpaquePointer) -> BrokerGate.Admission {
    var length: Int32 = 0
    var der: [UInt8]?
    if let buffer = vouch_mosquitto_certificate_der(client, &length) {
        der = Array(UnsafeBufferPointer(start: buffer, count: Int(length)))
        free(buffer)
    }
    let clientID = mosquitto_client_id(client).map { String(cString: $0) }
    let address = mosquitto_client_address(client).map { String(cString: $0) }
    let admission = plugin.gate.admit(
        connection: connection(of: client), clientID: clientID, certificateDER: der, sourceAddress: address)
    if case .refused(let reason) = admission {
        Plugin.log(Int32(MOSQ_LOG_NOTICE), "refused client \(clientID?.prefix(64) ?? "") from \(address ?? "?"): \(reason)")
    }
    return admission
}

private func onBasicAuth(_ event: Int32, _ data: UnsafeMutableRawPointer?, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let plugin = plugin(userdata), let data else { return authRefused }
    let auth = data.assumingMemoryBound(to: mosquitto_evt_basic_auth.self)
    guard let client = auth.pointee.client else { return authRefused }
    switch admit(plugin, client) {
    case .admitted(let device):
        return mosquitto_set_username(client, device) == success ? success : authRefused
    case .refused:
        return authRefused
    }
}

private func onACLCheck(_ event: Int32, _ data: UnsafeMutableRawPointer?, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let plugin = plugin(userdata), let data else { return aclDenied }
    let check = data.assumingMemoryBound(to: mosquitto_evt_acl_check.self)
    guard let client = check.pointee.client, let topic = check.pointee.topic else { return aclDenied }
    let access: BrokerGate.Access
    switch check.pointee.access {
    case Int32(MOSQ_ACL_WRITE): access = .publish
    case Int32(MOSQ_ACL_READ): access = .receive
    case Int32(MOSQ_ACL_SUBSCRIBE): access = .subscribe
    case Int32(MOSQ_ACL_UNSUBSCRIBE): return success
    default: return aclDenied
    }
    let connectionID = connection(of: client)
    if !plugin.gate.isAdmitted(connectionID) {
        // A listener that names clients by their certificate (use_identity_as_username) lets them
        // in without asking: admitted at the first check, or denied and disconnected. What has no
        // certificate is only denied: it may be the broker's own stand-in for a client (a retained
        // message checked again with check_retain_source), whose id is a real client's.
        if case .refused = admit(plugin, client) {
            if plugin.hasCertificate(client), let id = mosquitto_client_id(client) { plugin.gate.queueDisconnect(String(cString: id)) }
            return aclDenied
        }
    }
    let allowed = plugin.gate.check(
        connectionID, access, topic: String(cString: topic), sourceAddress: mosquitto_client_address(client).map { String(cString: $0) },
        bytes: Int(check.pointee.payloadlen))
    return allowed ? success : aclDenied
}

/// A message a client published (its publish was allowed): on a signed topic, dropped unless it is
/// the device's own envelope, in sequence and in time.
private func onMessage(_ event: Int32, _ data: UnsafeMutableRawPointer?, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let plugin = plugin(userdata), let data else { return aclDenied }
    let message = data.assumingMemoryBound(to: mosquitto_evt_message.self)
    guard let client = message.pointee.client, let topic = message.pointee.topic else { return aclDenied }
    let payload = UnsafeRawBufferPointer(start: message.pointee.payload, count: message.pointee.payload == nil ? 0 : Int(message.pointee.payloadlen))
    let topicText = String(cString: topic)
    switch plugin.gate.message(connection(of: client), topic: topicText, payload: payload) {
    case .passed:
        return success
    case .dropped(let reason):
        let id = mosquitto_client_id(client).map { String(cString: $0) } ?? "?"
        Plugin.log(Int32(MOSQ_LOG_INFO), "dropped a message of \(id.prefix(64)) on \(topicText.prefix(128)): \(reason)")
        return aclDenied
    }
}

private func onDisconnect(_ event: Int32, _ data: UnsafeMutableRawPointer?, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let plugin = plugin(userdata), let data else { return success }
    let disconnect = data.assumingMemoryBound(to: mosquitto_evt_disconnect.self)
    if let client = disconnect.pointee.client {
        plugin.gate.disconnected(connection(of: client))
    }
    return success
}

/// On the broker's thread, about every 100 ms: disconnects what lost its rights, writes the sync's log lines.
private func onTick(_ event: Int32, _ data: UnsafeMutableRawPointer?, _ userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let plugin = plugin(userdata) else { return success }
    for line in plugin.takeLines() { Plugin.log(Int32(MOSQ_LOG_NOTICE), line) }
    for clientID in plugin.gate.takeDisconnects() {
        Plugin.log(Int32(MOSQ_LOG_NOTICE), "disconnecting \(clientID): its device lost the right to be connected")
        _ = mosquitto_kick_client_by_clientid(clientID, false)
    }
    return success
}
