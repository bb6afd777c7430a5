import Foundation
import Testing
@testable import LLMeshCredentials

/// Region, STS endpoint and session-name precedence, and which source the chain picks.
@Suite struct EnvironmentAndChainTests {
    func select(_ variables: [String: String]) -> Result<AWSCredentialSource, AWSCredentialError> {
        select(AWSAuthConfiguration(), variables)
    }

    func select(_ configuration: AWSAuthConfiguration, _ variables: [String: String]) -> Result<AWSCredentialSource, AWSCredentialError> {
        let environment = AWSEnvironment(variables)
        return AWSCredentialSource.select(configuration: configuration, environment: environment, region: environment.region(configured: configuration.region))
    }

    func error(_ result: Result<AWSCredentialSource, AWSCredentialError>) -> AWSCredentialError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    func webIdentity(_ result: Result<AWSCredentialSource, AWSCredentialError>) -> WebIdentitySettings? {
        if case .success(.webIdentity(let settings)) = result { return settings }
        return nil
    }

    @Test func regionPrecedence() {
        let both = AWSEnvironment(["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"])
        #expect(both.region(configured: "us-west-2") == "us-west-2")
        #expect(both.region(configured: nil) == "eu-west-1")
        #expect(both.region(configured: "  ") == "eu-west-1")
        #expect(AWSEnvironment(["AWS_DEFAULT_REGION": "ap-south-1"]).region(configured: nil) == "ap-south-1")
        #expect(AWSEnvironment(["AWS_REGION": "", "AWS_DEFAULT_REGION": "ap-south-1"]).region(configured: nil) == "ap-south-1")
        #expect(AWSEnvironment([:]).region(configured: nil) == "us-east-1")
    }

    @Test func stsEndpointPrecedence() {
        let all = ["AWS_ENDPOINT_URL_STS": "http://sts.local:1", "AWS_ENDPOINT_URL": "http://all.local:2", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"]
        #expect(AWSEnvironment(all).stsEndpoint(region: "eu-west-1") == "http://sts.local:1")
        var withoutSTS = all
        withoutSTS["AWS_ENDPOINT_URL_STS"] = nil
        #expect(AWSEnvironment(withoutSTS).stsEndpoint(region: "eu-west-1") == "http://all.local:2")
        var ignoring = all
        ignoring["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(AWSEnvironment(ignoring).stsEndpoint(region: "eu-west-1") == "https://sts.amazonaws.com")
        #expect(AWSEnvironment(["AWS_STS_REGIONAL_ENDPOINTS": "legacy"]).stsEndpoint(region: "eu-west-1") == "https://sts.amazonaws.com")
        #expect(AWSEnvironment(["AWS_STS_REGIONAL_ENDPOINTS": "regional"]).stsEndpoint(region: "eu-west-1") == "https://sts.eu-west-1.amazonaws.com")
        #expect(AWSEnvironment([:]).stsEndpoint(region: "eu-central-2") == "https://sts.eu-central-2.amazonaws.com")
        #expect(AWSEnvironment([:]).stsEndpoint(region: "cn-north-1") == "https://sts.cn-north-1.amazonaws.com.cn")
    }

    @Test func theWebIdentityEndpointFollowsTheRegion() {
        let environment = ["AWS_ROLE_ARN": "arn:aws:iam::1:role/R", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_DEFAULT_REGION": "ap-southeast-2"]
        #expect(webIdentity(select(environment))?.endpoint == "https://sts.ap-southeast-2.amazonaws.com")
        #expect(webIdentity(select(.init(region: "sa-east-1"), environment))?.endpoint == "https://sts.sa-east-1.amazonaws.com")
    }

    @Test func sessionNames() {
        let generated = WebIdentityCredentialProvider.generatedSessionName(now: Date(timeIntervalSince1970: 1_800_000_000.1234))
        #expect(generated == "llmesh-1800000000123")
        #expect(WebIdentityCredentialProvider.isValidSessionName(generated))
        #expect(WebIdentityCredentialProvider.isValidSessionName("a+b=c,d.e@f-g_h"))
        #expect(!WebIdentityCredentialProvider.isValidSessionName("a"))
        #expect(!WebIdentityCredentialProvider.isValidSessionName(String(repeating: "a", count: 65)))
        #expect(WebIdentityCredentialProvider.isValidSessionName(String(repeating: "a", count: 64)))
        #expect(!WebIdentityCredentialProvider.isValidSessionName("has space"))
        #expect(!WebIdentityCredentialProvider.isValidSessionName("slash/es"))

        let environment = ["AWS_ROLE_ARN": "arn:aws:iam::1:role/R", "AWS_WEB_IDENTITY_TOKEN_FILE": "/t"]
        #expect(webIdentity(select(environment))?.sessionName == nil)
        #expect(webIdentity(select(environment.merging(["AWS_ROLE_SESSION_NAME": "from-env"]) { $1 }))?.sessionName == "from-env")
        #expect(webIdentity(select(.init(roleSessionName: "from-config"), environment.merging(["AWS_ROLE_SESSION_NAME": "from-env"]) { $1 }))?.sessionName == "from-config")
        #expect(error(select(.init(roleSessionName: "bad name"), environment))?.kind == .notConfigured)
    }

    @Test func formBodyEncodesEveryReservedCharacter() {
        let body = WebIdentityCredentialProvider.formBody(roleARN: "arn:aws:iam::123456789012:role/My Role", sessionName: "s@n", token: "ab+c/d=e==", durationSeconds: 3600)
        #expect(body == "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FMy%20Role&RoleSessionName=s%40n&WebIdentityToken=ab%2Bc%2Fd%3De%3D%3D&DurationSeconds=3600")
    }

    @Test func sessionDurationIsClampedToWhatSTSAccepts() {
        #expect(AWSRefreshPolicy.default.sessionDurationSeconds == 3600)
        #expect(AWSRefreshPolicy(sessionDuration: .seconds(60)).sessionDurationSeconds == 900)
        #expect(AWSRefreshPolicy(sessionDuration: .seconds(100_000)).sessionDurationSeconds == 43_200)
    }

    @Test func chainOrder() throws {
        let staticKeys = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret"]
        let envWebIdentity = ["AWS_ROLE_ARN": "arn:aws:iam::1:role/Env", "AWS_WEB_IDENTITY_TOKEN_FILE": "/env/token"]
        let container = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/pod/token"]
        let everything = staticKeys.merging(envWebIdentity) { $1 }.merging(container) { $1 }

        // An explicit role wins over everything in the environment, and keeps the environment's token file.
        let explicit = webIdentity(select(.init(webIdentityRoleARN: "arn:aws:iam::1:role/Config"), everything))
        #expect(explicit?.roleARN == "arn:aws:iam::1:role/Config")
        #expect(explicit?.tokenFile == "/env/token")
        #expect(webIdentity(select(.init(webIdentityRoleARN: "arn:aws:iam::1:role/Config", webIdentityTokenFile: "/config/token"), everything))?.tokenFile == "/config/token")
        // Then static keys.
        #expect(try select(everything).get().name == "environment")
        // Then web identity from the environment.
        var noStatic = everything
        noStatic["AWS_ACCESS_KEY_ID"] = nil
        noStatic["AWS_SECRET_ACCESS_KEY"] = nil
        #expect(webIdentity(select(noStatic))?.roleARN == "arn:aws:iam::1:role/Env")
        // Then the container provider.
        #expect(try select(container).get().name == "pod-identity")
        // podIdentity forces the container provider over static keys and web identity.
        #expect(try select(.init(podIdentity: true), everything).get().name == "pod-identity")
    }

    @Test func nothingConfiguredListsWhatWasLookedFor() throws {
        let failure = try #require(error(select([:])))
        #expect(failure.kind == .notConfigured)
        for name in ["AWS_ACCESS_KEY_ID", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "roleARN"] {
            #expect(failure.message.contains(name), "\(name) missing from \(failure.message)")
        }
        // AWS_ROLE_ARN without a token file is not web identity.
        #expect(error(select(["AWS_ROLE_ARN": "arn:aws:iam::1:role/R"]))?.kind == .notConfigured)
    }

    @Test func misconfigurationsAreReported() {
        #expect(error(select(["AWS_ACCESS_KEY_ID": "AKIA"]))?.message.contains("AWS_SECRET_ACCESS_KEY") == true)
        #expect(error(select(.init(webIdentityRoleARN: "arn:aws:iam::1:role/R"), [:]))?.message.contains("token file") == true)
        #expect(error(select(.init(webIdentityRoleARN: "arn:aws:iam::1:role/R", podIdentity: true), [:]))?.kind == .notConfigured)
        #expect(error(select(.init(podIdentity: true), [:]))?.message.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI") == true)
        #expect(error(select(.init(webIdentityRoleARN: "arn:aws:iam::1:role/R", webIdentityTokenFile: "/t"), ["AWS_ENDPOINT_URL_STS": "ftp://nope"]))?.kind == .notConfigured)
    }

    @Test func staticKeysFromTheEnvironment() throws {
        let source = try select(["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"]).get()
        guard case .environment(let credentials) = source else {
            Issue.record("expected static credentials, got \(source.name)")
            return
        }
        #expect(credentials == AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token"))
    }

    @Test(arguments: [
        ("http://169.254.170.23/v1/credentials", true), ("http://169.254.170.2/v2/credentials/abc", true),
        ("http://[fd00:ec2::23]/v1/credentials", true), ("http://[fd00:ec2:0:0:0:0:0:23]/v1/credentials", true),
        ("http://127.0.0.1:8080/creds", true), ("http://127.3.4.5/creds", true), ("http://localhost/creds", true),
        ("http://[::1]:9/creds", true), ("https://creds.example.com/v1", true),
        ("http://169.254.169.254/latest/meta-data", false), ("http://10.0.0.1/creds", false),
        ("http://example.com/creds", false), ("http://[fd00:ec2::24]/creds", false), ("ftp://127.0.0.1/creds", false),
        ("http://127.0.0.1.example.com/creds", false), ("not a url", false),
    ])
    func containerEndpointPolicy(_ uri: String, _ allowed: Bool) {
        #expect((ContainerEndpointPolicy.problem(with: uri) == nil) == allowed)
    }

    @Test func anECSRelativeURIPointsAtTheAgentAndWinsOverAFullURI() throws {
        let both = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/task-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials"]
        guard case .container(let settings) = try select(both).get() else {
            Issue.record("expected the container provider")
            return
        }
        #expect(settings.fullURI == "http://169.254.170.2/v2/credentials/task-1")
        #expect(error(select(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/credentials"]))?.message.contains("must start with /") == true)
    }

    @Test func aRefusedContainerEndpointIsNotConfigured() throws {
        let failure = try #require(error(select(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://10.0.0.1/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "t"])))
        #expect(failure.kind == .notConfigured)
        #expect(failure.message.contains("10.0.0.1"))
    }
}

@Suite struct RefreshWindowTests {
    @Test func configuredWindowsHoldUnlessTheyCoverTheWholeLifetime() {
        let defaults = AWSRefreshPolicy.default
        #expect(defaults.windows(lifetime: 3600) == (900, 600))
        // A 15-minute session against the default 15-minute window would refresh on every call.
        #expect(defaults.windows(lifetime: 900) == (450, 225))
        let tight = AWSRefreshPolicy(advisory: .seconds(899), mandatory: .seconds(1), sessionDuration: .seconds(900))
        #expect(tight.windows(lifetime: 900) == (899, 1))
        #expect(defaults.windows(lifetime: nil) == (900, 600))
        let inverted = AWSRefreshPolicy(advisory: .seconds(60), mandatory: .seconds(120))
        #expect(inverted.windows(lifetime: 3600) == (60, 60))
    }
}
