import Testing
@testable import LLMeshProviders

@Suite struct JSONDocumentTests {
    func document(_ text: String) throws -> JSONDocument { try JSONDocument(validating: Array(text.utf8)) }

    @Test func readsMembersValuesAndRanges() throws {
        let doc = try document(#" {"model":"gpt-4o","n":2,"f":1.5e3,"ok":true,"none":null,"list":[1,{"a":"b"}],"nested":{"x":{"y":7}}} "#)
        let members = doc.members(of: doc.root)
        #expect(members.map(\.key) == ["model", "n", "f", "ok", "none", "list", "nested"])
        #expect(doc.value(at: "model").flatMap(doc.string) == "gpt-4o")
        #expect(doc.value(at: "n").flatMap(doc.int) == 2)
        #expect(doc.value(at: "f").flatMap(doc.double) == 1500)
        #expect(doc.value(at: "f").flatMap(doc.int) == nil)
        #expect(doc.value(at: "ok").flatMap(doc.bool) == true)
        #expect(doc.value(at: "none")?.kind == JSONKind.null)
        #expect(doc.value(at: "list").map { doc.elements(of: $0).count } == 2)
        #expect(doc.value(at: "nested", "x", "y").flatMap(doc.int) == 7)
        #expect(String(decoding: doc.slice(members[0].value), as: UTF8.self) == "\"gpt-4o\"")
    }

    @Test func memberLookupMatchesEscapedKeysAndTakesTheFirstOfARepeatedKey() throws {
        let doc = try document(#"{"usage":1,"us\u0061ge2":2,"":3,"usage":4,"ü":5,"\u00fc\u00fc":6,"u":{"usage":7}}"#)
        #expect(doc.value(at: "usage").flatMap(doc.int) == 1)
        #expect(doc.value(at: "usage2").flatMap(doc.int) == 2)
        #expect(doc.value(at: "").flatMap(doc.int) == 3)
        #expect(doc.value(at: "ü").flatMap(doc.int) == 5)
        #expect(doc.value(at: "üü").flatMap(doc.int) == 6)
        #expect(doc.value(at: "u", "usage").flatMap(doc.int) == 7)
        #expect(doc.value(at: "usag") == nil && doc.value(at: "usagee") == nil && doc.value(at: "missing") == nil)
        #expect(doc.members(of: doc.root).map(\.key) == ["usage", "usage2", "", "usage", "ü", "üü", "u"])
        // Canonically equivalent keys match, as Swift strings compare: a Kelvin sign is a K, a decomposed é an é.
        let unicode = try document("{\"\u{212A}\":1,\"e\u{301}\":2}")
        #expect(unicode.value(at: "K").flatMap(unicode.int) == 1)
        #expect(unicode.value(at: "\u{E9}").flatMap(unicode.int) == 2)
        let number = try #require(doc.value(at: "usage"))
        #expect(doc.member("usage", of: number) == nil, "a number has no members")
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let doc = try document(#"{"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}"#)
        #expect(doc.value(at: "s").flatMap(doc.string) == "a\"b\\c/d\né😀")
    }

    @Test(arguments: [
        "", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{'a':1}", "{\"a\":tru}", "{\"a\":01}",
        "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"unterminated}", "{\"a\":1} x",
        "{\"a\":\"tab\there\"}", "nul", "{\"a\":[1,2,3", "{\"a\":{\"b\":",
    ])
    func refusesMalformedAndTruncatedInput(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONDocument(validating: Array(text.utf8)) }
    }

    @Test func refusesNestingBeyondTheLimitWithoutCrashing() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONDocument(validating: Array(deep.utf8)) }
        let allowed = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? JSONDocument(validating: Array(allowed.utf8))) != nil)
    }

    @Test func everyTruncationOfAValidDocumentIsRefused() throws {
        let text = #"{"model":"m","messages":[{"role":"user","content":"h\u00e9"}],"stream":true,"n":-1.5E+2}"#
        let bytes = Array(text.utf8)
        _ = try JSONDocument(validating: bytes)
        for length in 0..<bytes.count {
            #expect(throws: JSONSyntaxError.self) { try JSONDocument(validating: Array(bytes[0..<length])) }
        }
    }

    @Test func reportsTheOffsetOfTheError() {
        do {
            _ = try JSONDocument(validating: Array(#"{"a": 1, "b": x}"#.utf8))
            Issue.record("expected an error")
        } catch let error as JSONSyntaxError {
            #expect(error.offset == 14)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
