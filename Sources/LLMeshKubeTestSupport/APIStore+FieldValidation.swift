import LLMeshKube

extension APIStore {
    /// ``create(_:namespace:body:)`` with the request's `fieldValidation` mode.
    func createChecked(_ info: ResourceInfo, namespace: String?, body: JSONValue, strict: Bool) throws(APIStatus) -> JSONValue {
        try withFieldValidation(strict: strict) { () throws(APIStatus) in try create(info, namespace: namespace, body: body) }
    }

    /// ``update(_:namespace:name:body:subresource:)`` with the request's `fieldValidation` mode.
    func updateChecked(_ info: ResourceInfo, namespace: String?, name: String, body: JSONValue, subresource: String?, strict: Bool) throws(APIStatus) -> JSONValue {
        try withFieldValidation(strict: strict) { () throws(APIStatus) in try update(info, namespace: namespace, name: name, body: body, subresource: subresource) }
    }

    /// ``patch(_:namespace:name:contentType:body:subresource:fieldManager:)`` with the request's `fieldValidation` mode.
    func patchChecked(_ info: ResourceInfo, namespace: String?, name: String, contentType: String, body: JSONValue, subresource: String?, fieldManager: String?, strict: Bool) throws(APIStatus) -> JSONValue {
        try withFieldValidation(strict: strict) { () throws(APIStatus) in
            try patch(info, namespace: namespace, name: name, contentType: contentType, body: body, subresource: subresource, fieldManager: fieldManager)
        }
    }
}
