package dev.belfry.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code belfry-bom} lists every module a user can depend on: each module of the build that is
 * installed (not the benchmarks or the core's test suite, nor the BOM itself), and nothing else.
 */
class BomTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theBomListsEveryInstalledModule() throws IOException {
        Set<String> installed = new TreeSet<>();
        for (String module : all(Files.readString(ROOT.resolve("pom.xml")), "<module>([^<]+)</module>")) {
            String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
            if (!module.equals("belfry-bom") && !pom.contains("<maven.install.skip>true</maven.install.skip>")) {
                installed.add(module);
            }
        }
        assertThat(installed).contains("belfry-core", "belfry-http").doesNotContain("belfry-bench");

        String bom = Files.readString(ROOT.resolve("belfry-bom/pom.xml"));
        String managed = bom.substring(bom.indexOf("<dependencyManagement>"));
        assertThat(all(managed, "<artifactId>(belfry-[a-z-]+)</artifactId>")).isEqualTo(installed);
    }

    @Test
    void everyInstalledLibraryNamesItsModule() throws IOException {
        for (String module : all(Files.readString(ROOT.resolve("pom.xml")), "<module>([^<]+)</module>")) {
            String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
            if (module.equals("belfry-bom") || pom.contains("<maven.install.skip>true</maven.install.skip>")) {
                continue;
            }
            assertThat(all(pom, "<automatic.module.name>([a-z.]+)</automatic.module.name>"))
                    .as("the Automatic-Module-Name of %s", module)
                    .containsExactly("dev.belfry." + module.substring("belfry-".length()));
        }
    }

    private static Set<String> all(String text, String regex) {
        Set<String> found = new TreeSet<>();
        Matcher matcher = Pattern.compile(regex).matcher(text);
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }
}
