import Testing
@testable import LLMeshProviders

@Suite struct TranslationJSONTreeTests {
    func parse(_ text: String) throws -> JSONTree { try JSONTree(parsing: Array(text.utf8)) }

    @Test func keepsKeyOrderIntegersAndDoubles() throws {
        let tree = try parse(#"{"z":1,"a":2.5,"m":[true,false,null],"n":-0,"e":1e3,"big":123456789012345678901234567890}"#)
        #expect(tree.objectValue?.keys == ["z", "a", "m", "n", "e", "big"])
        #expect(tree["z"] == .int(1))
        #expect(tree["a"] == .double(2.5))
        #expect(tree["e"] == .double(1000))
        #expect(tree["n"] == .int(0))
        #expect(tree["big"]?.doubleValue != nil)
        #expect(tree["m"] == [true, false, nil])
        #expect(tree.text == #"{"z":1,"a":2.5,"m":[true,false,null],"n":0,"e":1000.0,"big":1.2345678901234568e+29}"#)
    }

    @Test func roundTripsStringsWithEscapes() throws {
        let original = "quote \" backslash \\ newline \n tab \t bell \u{07} emoji 🦙 é \u{2028}"
        let tree = JSONTree.string(original)
        let reparsed = try JSONTree(parsing: tree.serialized)
        #expect(reparsed.stringValue == original)
        #expect(tree.text.contains(#"\u0007"#))
        let surrogate = try parse(#""\ud83e\udd99 \u00e9""#)
        #expect(surrogate.stringValue == "🦙 é")
    }

    @Test func serialisesCompactlyInLiteralOrder() {
        let tree: JSONTree = ["b": 1, "a": ["x": "y", "list": [1, 2.5, nil, false]], "c": .string("\"")]
        #expect(tree.text == #"{"b":1,"a":{"x":"y","list":[1,2.5,null,false]},"c":"\""}"#)
    }

    @Test func objectEditingReplacesInPlaceAndRemoves() {
        var object: JSONObject = ["model": "a", "stream": true]
        object["model"] = "b"
        object["extra"] = 1
        object["stream"] = nil
        #expect(object.keys == ["model", "extra"])
        #expect(object["model"] == "b")
    }

    @Test func nonFiniteDoublesSerialiseAsNull() {
        #expect(JSONTree.double(.infinity).text == "null")
        #expect(JSONTree.double(.nan).text == "null")
    }

    @Test func refusesMalformedAndTooDeepInput() {
        for bad in ["", "{", #"{"a":}"#, "[1,]", #"{"a":1}x"#, "nul", #""\x""#, String(repeating: "[", count: 200) + String(repeating: "]", count: 200)] {
            #expect(throws: SidecarError.self) { try parse(bad) }
            do {
                _ = try parse(bad)
            } catch let error as SidecarError {
                #expect(error.code == .invalidJSON)
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
