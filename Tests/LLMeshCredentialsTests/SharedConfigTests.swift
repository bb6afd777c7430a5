import Foundation
import Testing
@testable import LLMeshCredentials

/// The AWS shared credentials and config files: the INI reader, profile selection, and their place in the chain.
@Suite struct SharedConfigTests {
    /// A fake `HOME` with `~/.aws/credentials` and `~/.aws/config`, removed afterwards.
    struct Home {
        let path: String

        init(credentials: String? = nil, config: String? = nil) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("llmesh-home-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
            if let credentials { try Data(credentials.utf8).write(to: URL(fileURLWithPath: path + "/.aws/credentials")) }
            if let config { try Data(config.utf8).write(to: URL(fileURLWithPath: path + "/.aws/config")) }
        }

        func remove() { try? FileManager.default.removeItem(atPath: path) }
    }

    static let credentials = """
        # written by aws configure
        [default]
        aws_access_key_id = AKIDDEFAULTPROFILE
        aws_secret_access_key = default-secret

        [dev]
        AWS_ACCESS_KEY_ID=AKIDDEVPROFILE
        aws_secret_access_key: dev-secret
        aws_session_token = dev-session
        """

    static let config = """
        [default]
        region = eu-north-1
        s3 =
          max_concurrent_requests = 20
        ; the dev profile
        [profile dev]
        region = ap-northeast-3
        aws_access_key_id = AKIDFROMCONFIG
        [profile web]
        role_arn = arn:aws:iam::123456789012:role/from-profile
        web_identity_token_file = ~/token
        role_session_name = profile-session
        [profile chained]
        role_arn = arn:aws:iam::123456789012:role/chained
        source_profile = default
        [profile region-only]
        region = sa-east-1
        """

    func select(_ variables: [String: String]) -> Result<AWSCredentialSource, AWSCredentialError> {
        let environment = AWSEnvironment(variables)
        return AWSCredentialSource.select(configuration: AWSAuthConfiguration(), environment: environment, region: environment.region(configured: nil))
    }

    func staticKeys(_ result: Result<AWSCredentialSource, AWSCredentialError>) -> (source: String, keyID: String, token: String?)? {
        switch result {
        case .success(let source):
            switch source {
            case .environment(let credentials), .profile(let credentials): return (source.name, credentials.accessKeyID, credentials.sessionToken)
            default: return nil
            }
        case .failure: return nil
        }
    }

    func failure(_ result: Result<AWSCredentialSource, AWSCredentialError>) -> AWSCredentialError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    // MARK: The reader

    @Test func readsSectionsKeysCommentsAndNestedSettings() throws {
        let file = try AWSProfileFile(parsing: Data("[default]\r\nregion = eu-west-1\r\n\n# comment\n; comment\n[profile x]\nKey: a = b\ns3 =\n  nested = 1\n\tnested2 = 2\nempty =\n".utf8))
        #expect(file.sections["default"] == ["region": "eu-west-1"])
        #expect(file.sections["profile x"] == ["key": "a = b", "s3": "", "empty": ""])
    }

    @Test func readsFilesTheWayConfigparserDoes() throws {
        // Settings indented under a header (as an indented heredoc writes them) are settings, not continuations;
        // text after a header's closing bracket is ignored; a deeper-indented line continues the setting above.
        let file = try AWSProfileFile(parsing: Data("[default]   # personal\n  aws_access_key_id = A\n  aws_secret_access_key = B\n      continued\n[profile x] extra\nregion = r\n".utf8))
        #expect(file.sections["default"] == ["aws_access_key_id": "A", "aws_secret_access_key": "B"])
        #expect(file.sections["profile x"] == ["region": "r"])
    }

    @Test func configProfilesAreNamedAsBotocoreSplitsThem() throws {
        let file = try AWSProfileFile(parsing: Data("[profile  spaced]\nregion = a\n[profile \"quoted\"]\nregion = b\n[profile default]\nregion = c\n[default]\nregion = d\n[profile]\nregion = e\n[profiled]\nregion = f\n[sso-session corp]\nregion = g\n".utf8))
        let profiles = AWSSharedConfig.configProfiles(file)
        #expect(profiles["spaced"]?["region"] == "a")
        #expect(profiles["quoted"]?["region"] == "b")
        #expect(profiles["default"]?["region"] == "d", "[default] wins over [profile default]")
        #expect(Set(profiles.keys) == ["spaced", "quoted", "default"])
    }

    @Test func malformedFilesAreRefusedWithTheLine() {
        let cases: [(String, Int, String)] = [
            ("region = x\n", 1, "before any [section]"),
            ("[default]\nnot a setting\n", 2, "expected key = value"),
            ("[default\n", 1, "section header"),
            ("[]\n", 1, "section header"),
            ("[ ]\n", 1, "section header"),
            ("  indented = 1\n", 1, "indented line outside a setting"),
            ("[default]\n  not a setting\n", 2, "expected key = value"),
            ("[default]\n= value\n", 2, "without a name"),
        ]
        for (text, line, message) in cases {
            #expect(throws: AWSProfileFile.ParseError.self) { try AWSProfileFile(parsing: Data(text.utf8)) }
            do {
                _ = try AWSProfileFile(parsing: Data(text.utf8))
            } catch {
                #expect(error.line == line, "\(text.debugDescription)")
                #expect(error.message.contains(message), "\(text.debugDescription): \(error.message)")
            }
        }
    }

    @Test func binaryAndOversizedFilesAreRefused() {
        #expect(throws: AWSProfileFile.ParseError(line: 0, message: "not UTF-8 text")) { try AWSProfileFile(parsing: Data([0x5B, 0xFF, 0xFE, 0x5D])) }
        let big = Data(repeating: 0x23, count: AWSProfileFile.maximumBytes + 1)
        #expect(throws: AWSProfileFile.ParseError(line: 0, message: "larger than \(AWSProfileFile.maximumBytes) bytes")) { try AWSProfileFile(parsing: big) }
    }

    @Test func everyTruncationParsesOrFailsCleanly() {
        let bytes = Array((Self.credentials + "\n" + Self.config).utf8)
        for length in 0...bytes.count {
            // A prefix is either a valid file (cut at a line end, or inside a value) or refused with its line.
            do {
                let file = try AWSProfileFile(parsing: Data(bytes[0..<length]))
                #expect(file.sections.count <= 7)
            } catch {
                #expect(error.line >= 1, "cut at \(length): \(error.message)")
            }
        }
    }

    // MARK: Profiles and the chain

    @Test func theDefaultProfileGivesStaticKeysAndItsRegion() throws {
        let home = try Home(credentials: Self.credentials, config: Self.config)
        defer { home.remove() }
        let result = select(["HOME": home.path])
        #expect(staticKeys(result)?.source == "profile")
        #expect(staticKeys(result)?.keyID == "AKIDDEFAULTPROFILE")
        #expect(AWSEnvironment(["HOME": home.path]).region(configured: nil) == "eu-north-1")
        #expect(AWSEnvironment(["HOME": home.path, "AWS_REGION": "us-west-2"]).region(configured: nil) == "us-west-2")
    }

    @Test func aNamedProfileIsReadFromBothFilesAndTheCredentialsFileWins() throws {
        let home = try Home(credentials: Self.credentials, config: Self.config)
        defer { home.remove() }
        let keys = staticKeys(select(["HOME": home.path, "AWS_PROFILE": "dev"]))
        #expect(keys?.keyID == "AKIDDEVPROFILE" && keys?.token == "dev-session")
        #expect(AWSEnvironment(["HOME": home.path, "AWS_PROFILE": "dev"]).region(configured: nil) == "ap-northeast-3")
        #expect(AWSEnvironment(["HOME": home.path, "AWS_DEFAULT_PROFILE": "region-only"]).region(configured: nil) == "sa-east-1")
    }

    @Test func environmentSourcesComeBeforeTheProfile() throws {
        let home = try Home(credentials: Self.credentials, config: Self.config)
        defer { home.remove() }
        let environmentKeys = staticKeys(select(["HOME": home.path, "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s"]))
        #expect(environmentKeys?.source == "environment" && environmentKeys?.keyID == "AKIDENV")
        let irsa = select(["HOME": home.path, "AWS_ROLE_ARN": "arn:aws:iam::1:role/Env", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"])
        guard case .success(.webIdentity(let settings)) = irsa else {
            Issue.record("expected web identity, got \(irsa)")
            return
        }
        #expect(settings.roleARN == "arn:aws:iam::1:role/Env")
    }

    @Test func aProfileWithWebIdentityUsesItsRoleAndTokenFile() throws {
        let home = try Home(config: Self.config)
        defer { home.remove() }
        let result = select(["HOME": home.path, "AWS_PROFILE": "web", "AWS_REGION": "eu-west-3"])
        guard case .success(.webIdentity(let settings)) = result else {
            Issue.record("expected web identity, got \(result)")
            return
        }
        #expect(settings.roleARN == "arn:aws:iam::123456789012:role/from-profile")
        #expect(settings.tokenFile == home.path + "/token")
        #expect(settings.sessionName == "profile-session")
        #expect(settings.endpoint == "https://sts.eu-west-3.amazonaws.com")
    }

    @Test func aProfileThatNeedsWhatIsNotImplementedIsAClearError() throws {
        let home = try Home(config: Self.config)
        defer { home.remove() }
        let error = failure(select(["HOME": home.path, "AWS_PROFILE": "chained"]))
        #expect(error?.kind == .notConfigured && error?.source == "profile")
        #expect(error?.message.contains("source_profile") == true)
        let partial = failure(select(["HOME": home.path, "AWS_PROFILE": "dev"]))
        #expect(partial?.message.contains("aws_access_key_id without aws_secret_access_key") == true)
    }

    @Test func anAssumeRoleProfileIsAnErrorEvenWithKeysBesideIt() throws {
        // botocore would assume the role: signing with the base keys instead would be someone else.
        let home = try Home(credentials: Self.credentials, config: "[default]\nrole_arn = arn:aws:iam::1:role/X\nsource_profile = default\n")
        defer { home.remove() }
        #expect(failure(select(["HOME": home.path]))?.message.contains("through source_profile") == true)
        let roleOnly = try Home(credentials: Self.credentials, config: "[default]\nrole_arn = arn:aws:iam::1:role/X\n")
        defer { roleOnly.remove() }
        #expect(failure(select(["HOME": roleOnly.path]))?.message.contains("role_arn but no web_identity_token_file") == true)
    }

    @Test func credentialsFileKeysComeBeforeCredentialProcessAndConfigKeysAfter() throws {
        let process = "[default]\ncredential_process = /usr/local/bin/creds\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = s\nregion = eu-south-1\n"
        let withFileKeys = try Home(credentials: "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n", config: process)
        defer { withFileKeys.remove() }
        #expect(staticKeys(select(["HOME": withFileKeys.path]))?.keyID == "AKIDFILE")
        let configOnly = try Home(config: process)
        defer { configOnly.remove() }
        #expect(failure(select(["HOME": configOnly.path]))?.message.contains("through credential_process") == true)
    }

    @Test func aRegionInTheCredentialsFileCountsAndUnreadableFilesAreSkipped() throws {
        let home = try Home(credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = s\nregion = me-south-1\n")
        defer { home.remove() }
        #expect(AWSEnvironment(["HOME": home.path]).region(configured: nil) == "me-south-1")
        // A directory where the config file should be cannot be read: skipped, as botocore skips it.
        let environment = ["HOME": home.path, "AWS_CONFIG_FILE": home.path + "/.aws"]
        #expect(staticKeys(select(environment))?.keyID == "A")
        #expect(failure(select(["AWS_DEFAULT_PROFILE": "x", "AWS_CONFIG_FILE": home.path + "/none"]))?.message.contains("(from AWS_DEFAULT_PROFILE)") == true)
    }

    @Test func aMissingNamedProfileIsAnErrorButAMissingDefaultIsNot() throws {
        let home = try Home(config: "[profile other]\nregion = eu-west-1\n")
        defer { home.remove() }
        let missing = failure(select(["HOME": home.path, "AWS_PROFILE": "absent"]))
        #expect(missing?.message.contains("AWS profile \"absent\"") == true)
        let none = failure(select(["HOME": home.path]))
        #expect(none?.source == "none" && none?.message.contains("shared credentials and config files") == true)
        #expect(failure(select(["HOME": home.path, "AWS_PROFILE": "other"]))?.source == "none", "a profile with only a region gives no credentials")
    }

    @Test func explicitFilePathsReplaceTheDefaultsAndABrokenFileIsNamed() throws {
        let home = try Home()
        defer { home.remove() }
        let credentialsPath = home.path + "/elsewhere-credentials"
        try Data("[default]\naws_access_key_id = AKIDELSEWHERE\naws_secret_access_key = s\n".utf8).write(to: URL(fileURLWithPath: credentialsPath))
        #expect(staticKeys(select(["AWS_SHARED_CREDENTIALS_FILE": credentialsPath]))?.keyID == "AKIDELSEWHERE")
        let brokenPath = home.path + "/broken-config"
        try Data("[default]\nthis is not a setting\n".utf8).write(to: URL(fileURLWithPath: brokenPath))
        let broken = failure(select(["AWS_CONFIG_FILE": brokenPath]))
        #expect(broken?.message == "\(brokenPath) line 2: expected key = value")
        #expect(AWSEnvironment(["AWS_CONFIG_FILE": brokenPath]).region(configured: nil) == "us-east-1")
    }

    @Test func theResolverSignsWithTheProfileAndReportsIt() async throws {
        let home = try Home(credentials: Self.credentials)
        defer { home.remove() }
        try await Harness.withClient { client in
            let resolver = Harness.resolver(environment: ["HOME": home.path, "AWS_PROFILE": "dev"], client: client, clock: TestClock())
            let keyID = try await Harness.accessKeyID(resolver)
            #expect(keyID == "AKIDDEVPROFILE")
            #expect(resolver.status.source == "profile")
            #expect(!"\(resolver.status)".contains("dev-secret"))
        }
    }
}
